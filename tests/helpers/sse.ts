// Reads a server-sent event stream (GET /v1/events) with fetch.
export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

export interface SseStream {
  events: SseEvent[];
  /** Resolves with the first event (seen or future) that passes `test`. */
  next(test: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  if (res.status !== 200 || !res.body) throw new Error(`SSE ${url}: HTTP ${res.status}`);
  const events: SseEvent[] = [];
  const waiters: Array<{ test: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }> = [];
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  const ended = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += decoder.decode(value, { stream: true });
        let sep: number;
        while ((sep = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, sep);
          buf = buf.slice(sep + 2);
          const e: SseEvent = { data: "" };
          let hasData = false;
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue;
            const i = line.indexOf(":");
            const field = i < 0 ? line : line.slice(0, i);
            const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
            if (field === "data") {
              e.data += (hasData ? "\n" : "") + val;
              hasData = true;
            } else if (field === "id") e.id = val;
            else if (field === "event") e.event = val;
          }
          if (!hasData) continue;
          events.push(e);
          for (const w of waiters.splice(0)) {
            if (w.test(e)) w.resolve(e);
            else waiters.push(w);
          }
        }
      }
    } catch {
      /* aborted */
    }
  })();
  return {
    events,
    ended,
    close: () => ac.abort(),
    next: (test, timeoutMs = 5000) => {
      const seen = events.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("timed out waiting for an SSE event")), timeoutMs);
        waiters.push({
          test,
          resolve: (e) => {
            clearTimeout(t);
            resolve(e);
          },
        });
      });
    },
  };
}
