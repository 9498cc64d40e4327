// Waiting in tests for something that happens on its own time (a port opening, an event arriving).

/** Polls `get` until `test` passes on its value (returns it) or throws after timeoutMs. */
export async function until<T>(
  get: () => Promise<T> | T,
  test: (v: T) => boolean,
  timeoutMs = 10_000,
  what = "condition",
  intervalMs = 25,
): Promise<T> {
  const t0 = Date.now();
  let last: T;
  for (;;) {
    last = await get();
    if (test(last)) return last;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} not reached within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
