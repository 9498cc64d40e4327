// A byte trie over literal spellings (enum/const values, true/false/null, object keys, tool-call heads).
// Built once at compile time and read-only afterwards; automaton states point into it by node index.

export class ByteTrie {
  /** children of each node: byte -> node index */
  private readonly next: Map<number, number>[] = [new Map()];
  /** payload of a terminal node, -1 when the node is not terminal */
  private readonly payload: number[] = [-1];
  /** shortest number of bytes from the node to a terminal (filled by finish()) */
  minDepth: Int32Array = new Int32Array(0);
  /** number of bytes stored, for the compile budget */
  bytes = 0;

  static readonly ROOT = 0;

  get size(): number {
    return this.next.length;
  }

  /** Adds a spelling; returns false when it was already there (the first payload wins). */
  add(bytes: Uint8Array, payload: number): boolean {
    let n = 0;
    for (const b of bytes) {
      const children = this.next[n]!;
      let c = children.get(b);
      if (c === undefined) {
        c = this.next.length;
        this.next.push(new Map());
        this.payload.push(-1);
        children.set(b, c);
      }
      n = c;
    }
    this.bytes += bytes.length;
    if (this.payload[n]! >= 0) return false;
    this.payload[n] = payload;
    return true;
  }

  child(node: number, b: number): number {
    const c = this.next[node]!.get(b);
    return c === undefined ? -1 : c;
  }

  childBytes(node: number): number[] {
    return [...this.next[node]!.keys()];
  }

  hasChildren(node: number): boolean {
    return this.next[node]!.size > 0;
  }

  terminal(node: number): boolean {
    return this.payload[node]! >= 0;
  }

  payloadOf(node: number): number {
    return this.payload[node]!;
  }

  /** Payloads reachable from each node, as bit masks over `words` 32-bit words (for key availability). */
  payloadMasks(words: number): Uint32Array[] {
    const masks = this.next.map(() => new Uint32Array(words));
    // children always have larger indices than their parent: fold bottom-up
    for (let n = this.next.length - 1; n >= 0; n--) {
      const m = masks[n]!;
      const p = this.payload[n]!;
      if (p >= 0) m[p >>> 5]! |= 1 << (p & 31);
      for (const c of this.next[n]!.values()) {
        const cm = masks[c]!;
        for (let w = 0; w < words; w++) m[w]! |= cm[w]!;
      }
    }
    return masks;
  }

  /** Computes minDepth; call once after the last add(). */
  finish(): this {
    const d = new Int32Array(this.next.length).fill(0x3fffffff);
    for (let n = this.next.length - 1; n >= 0; n--) {
      if (this.payload[n]! >= 0) d[n] = 0;
      for (const c of this.next[n]!.values()) if (d[c]! + 1 < d[n]!) d[n] = d[c]! + 1;
    }
    this.minDepth = d;
    return this;
  }
}
