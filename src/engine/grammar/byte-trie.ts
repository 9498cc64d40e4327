// A byte trie over literal spellings (enum/const values, true/false/null, object keys, tool-call heads).
// Built once at compile time and read-only afterwards; automaton states point into it by node index.
//
// While it is built each node has a Map of children; finish() packs them into three typed arrays (children of a
// node side by side, sorted by byte) and drops the Maps. A Map costs ~180 bytes of V8 heap even when it holds one
// child, and the engine keeps dozens of grammars (retrieval subsets, each with its own call-head trie).

export class ByteTrie {
  /** children of each node while building: byte -> node index (emptied by finish()) */
  private building: Map<number, number>[] | null = [new Map()];
  /** payload of a terminal node, -1 when the node is not terminal */
  private payload: number[] | Int32Array = [-1];
  /** packed children: those of node n are at [first[n], first[n + 1]) of `labels` (bytes) and `kids` (nodes) */
  private first = new Int32Array(2);
  private labels = new Uint8Array(0);
  private kids = new Int32Array(0);
  /** shortest number of bytes from the node to a terminal (filled by finish()) */
  minDepth: Int32Array = new Int32Array(0);
  /** number of bytes stored, for the compile budget */
  bytes = 0;

  static readonly ROOT = 0;

  get size(): number {
    return this.payload.length;
  }

  /** Adds a spelling; returns false when it was already there (the first payload wins). Only before finish(). */
  add(bytes: Uint8Array, payload: number): boolean {
    const next = this.building;
    if (next === null) throw new Error("ByteTrie.add after finish()");
    const pay = this.payload as number[];
    let n = 0;
    for (const b of bytes) {
      const children = next[n]!;
      let c = children.get(b);
      if (c === undefined) {
        c = next.length;
        next.push(new Map());
        pay.push(-1);
        children.set(b, c);
      }
      n = c;
    }
    this.bytes += bytes.length;
    if (pay[n]! >= 0) return false;
    pay[n] = payload;
    return true;
  }

  child(node: number, b: number): number {
    const labels = this.labels;
    for (let e = this.first[node]!, end = this.first[node + 1]!; e < end; e++) {
      const l = labels[e]!;
      if (l === b) return this.kids[e]!;
      if (l > b) break;
    }
    return -1;
  }

  childBytes(node: number): number[] {
    return Array.from(this.labels.subarray(this.first[node]!, this.first[node + 1]!));
  }

  hasChildren(node: number): boolean {
    return this.first[node + 1]! > this.first[node]!;
  }

  terminal(node: number): boolean {
    return this.payload[node]! >= 0;
  }

  payloadOf(node: number): number {
    return this.payload[node]!;
  }

  /** Payloads reachable from each node, as bit masks over `words` 32-bit words (for key availability). */
  payloadMasks(words: number): Uint32Array[] {
    const n = this.size;
    const masks = Array.from({ length: n }, () => new Uint32Array(words));
    // children always have larger indices than their parent: fold bottom-up
    for (let v = n - 1; v >= 0; v--) {
      const m = masks[v]!;
      const p = this.payload[v]!;
      if (p >= 0) m[p >>> 5]! |= 1 << (p & 31);
      for (let e = this.first[v]!; e < this.first[v + 1]!; e++) {
        const cm = masks[this.kids[e]!]!;
        for (let w = 0; w < words; w++) m[w]! |= cm[w]!;
      }
    }
    return masks;
  }

  /** Packs the trie and computes minDepth; call once, after the last add(). */
  finish(): this {
    const next = this.building;
    if (next === null) return this;
    const n = next.length;
    let edges = 0;
    for (const m of next) edges += m.size;
    const first = new Int32Array(n + 1);
    const labels = new Uint8Array(edges);
    const kids = new Int32Array(edges);
    let e = 0;
    for (let v = 0; v < n; v++) {
      first[v] = e;
      for (const [b, c] of [...next[v]!].sort((x, y) => x[0] - y[0])) {
        labels[e] = b;
        kids[e++] = c;
      }
    }
    first[n] = e;
    this.first = first;
    this.labels = labels;
    this.kids = kids;
    this.payload = Int32Array.from(this.payload);
    this.building = null;
    const d = new Int32Array(n).fill(0x3fffffff);
    for (let v = n - 1; v >= 0; v--) {
      if (this.payload[v]! >= 0) d[v] = 0;
      for (let k = first[v]!; k < first[v + 1]!; k++) if (d[kids[k]!]! + 1 < d[v]!) d[v] = d[kids[k]!]! + 1;
    }
    this.minDepth = d;
    return this;
  }
}
