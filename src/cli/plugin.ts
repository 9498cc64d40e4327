// needled plugin new NAME [--dir DIR]
import { ScaffoldError, scaffoldPlugin } from "../plugins/scaffold.js";
import { EXIT, UsageError, parse, type Io } from "./common.js";

export const usage = "needled plugin new NAME [--dir DIR]   (DIR defaults to the current directory)";

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { dir: { type: "string" } });
  const [sub, name, ...extra] = positionals;
  if (sub !== "new" || !name || extra.length > 0) throw new UsageError(`usage: ${usage}`);
  try {
    const r = await scaffoldPlugin(name, values.dir ?? process.cwd());
    io.out(`created ${r.dir}: ${r.files.join(", ")}`);
    io.out(`tool: ${r.tool}; test it with: (cd ${r.dir} && npx vitest run)`);
    io.out(`load it: add ${values.dir ?? "this directory"} to plugin_dirs in the needled config`);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof ScaffoldError) throw new UsageError(err.message);
    throw err;
  }
}
