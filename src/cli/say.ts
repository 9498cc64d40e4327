// needled say "text" [--device ID] [--http HOST:PORT] [--json]
import type { Answer } from "../daemon/core.js";
import { EXIT, UsageError, endpoint, parse, request, type Io } from "./common.js";

export const usage = `needled say "TEXT" [--device ID] [--http HOST:PORT] [--config FILE] [--token T] [--json]`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    device: { type: "string" },
    http: { type: "string" },
    config: { type: "string" },
    token: { type: "string" },
    json: { type: "boolean" },
  });
  const text = positionals.join(" ").trim();
  if (!text) throw new UsageError(`say needs the text to say\nusage: ${usage}`);
  const ep = await endpoint(values);
  const { json } = await request(ep, "POST", "/v1/say", { text, device: values.device ?? "cli" });
  const a = json as Answer;
  io.out(values.json ? JSON.stringify(a) : a.say ?? JSON.stringify(a));
  return a.ok ? EXIT.OK : EXIT.FAILED;
}
