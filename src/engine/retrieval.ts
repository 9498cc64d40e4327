// Tool retrieval (Needle's retrieval head): when more than K tools are declared, only the K whose embeddings
// are closest to the query's go into the prompt.
//
// The query is embedded from its own tokens (no special tokens, at most 256), each tool from the tokens of its
// compact JSON as the prompt shows it (`{"name":"snake_case","description":...,"parameters":...}`, the text
// Needle's contrastive loss trained the head on); cosine similarity ranks the tools and the top K are kept in
// their declared order. Tool embeddings depend only on the tool's JSON, so they are computed once and cached.
// Pure logic here; the engine supplies the encoder.

/** Needle embeds at most this many tokens of one text. */
export const RETRIEVAL_MAX_TOKENS = 256;

/** Cosine similarity; 0 when either vector is zero or the lengths differ. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 || nb === 0) return 0;
  const c = dot / Math.sqrt(na * nb);
  return Number.isNaN(c) ? 0 : c;
}

/**
 * Indices of the `k` highest scores, in ascending index order (declared order). Ties go to the lower index;
 * NaN scores rank last. `k >= scores.length` keeps every index.
 */
export function topK(scores: readonly number[], k: number): number[] {
  const n = scores.length;
  if (k >= n) return scores.map((_, i) => i);
  if (k <= 0) return [];
  const key = (i: number) => (Number.isNaN(scores[i]!) ? -Infinity : scores[i]!);
  const order = scores.map((_, i) => i).sort((a, b) => key(b) - key(a) || a - b);
  return order.slice(0, k).sort((a, b) => a - b);
}

export interface RetrievalResult {
  /** Indices into the declared tools, ascending. */
  kept: number[];
  /** Cosine similarity of each declared tool to the query. */
  scores: number[];
}

/** Ranks tool embeddings against the query embedding and keeps the top `k` (declared order). */
export function selectTools(query: ArrayLike<number>, tools: readonly ArrayLike<number>[], k: number): RetrievalResult {
  const scores = tools.map((t) => cosine(query, t));
  return { kept: topK(scores, k), scores };
}

/** A bounded least-recently-used map (Map keeps insertion order; a hit moves the key to the end). */
export class LruCache<K, V> {
  readonly #map = new Map<K, V>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LRU capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.#map.size;
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#map.delete(key);
    this.#map.set(key, v);
    return v;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.capacity) this.#map.delete(this.#map.keys().next().value as K);
  }

  clear(): void {
    this.#map.clear();
  }
}
