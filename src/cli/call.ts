// needled call TOOL 'JSON' [--device ID] [--http HOST:PORT] [--json]
import type { Answer } from "../daemon/core.js";
import { EXIT, UsageError, endpoint, parse, request, type Io } from "./common.js";

export const usage = `needled call TOOL ['{"arg": "value"}'] [--device ID] [--http HOST:PORT] [--config FILE] [--token T] [--json]`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    device: { type: "string" },
    http: { type: "string" },
    config: { type: "string" },
    token: { type: "string" },
    json: { type: "boolean" },
  });
  const [name, rawArgs, ...extra] = positionals;
  if (!name || extra.length > 0) throw new UsageError(`call needs a tool name and at most one JSON argument object\nusage: ${usage}`);
  let args: unknown = {};
  if (rawArgs !== undefined) {
    try {
      args = JSON.parse(rawArgs);
    } catch (err) {
      throw new UsageError(`the arguments are not valid JSON: ${(err as Error).message}`);
    }
    if (typeof args !== "object" || args === null || Array.isArray(args)) {
      throw new UsageError(`the arguments must be a JSON object, e.g. '{"duration": "5 minutes"}'`);
    }
  }
  const ep = await endpoint(values);
  const { json } = await request(ep, "POST", "/v1/call", { name, arguments: args, device: values.device ?? "cli" });
  const a = json as Answer;
  io.out(values.json ? JSON.stringify(a) : a.say ?? JSON.stringify(a));
  return a.ok ? EXIT.OK : EXIT.FAILED;
}
