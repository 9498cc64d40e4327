// Collects text written to it (a pino destination or a child process's stdout) as lines.
export class LineCollector {
  readonly lines: string[] = [];
  private partial = "";
  private waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];

  write(chunk: string | Buffer): boolean {
    this.partial += chunk.toString();
    let nl: number;
    while ((nl = this.partial.indexOf("\n")) >= 0) {
      const line = this.partial.slice(0, nl);
      this.partial = this.partial.slice(nl + 1);
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(line)) return true;
        w.resolve(line);
        return false;
      });
    }
    return true;
  }

  /** Lines that parse as JSON objects (log records). */
  json(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const l of this.lines) {
      try {
        const v = JSON.parse(l);
        if (v && typeof v === "object") out.push(v);
      } catch {
        /* not a log line */
      }
    }
    return out;
  }

  text(): string {
    return this.lines.join("\n") + (this.partial ? `\n${this.partial}` : "");
  }

  /** Resolves with the first line (already seen or future) that passes `test`. */
  waitFor(test: RegExp | ((line: string) => boolean), timeoutMs = 15_000): Promise<string> {
    const fn = typeof test === "function" ? test : (l: string) => test.test(l);
    const seen = this.lines.find(fn);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a line matching ${test}\n--- output:\n${this.text()}`));
      }, timeoutMs);
      const done = (line: string) => {
        clearTimeout(t);
        resolve(line);
      };
      this.waiters.push({ test: fn, resolve: done });
    });
  }
}
