// Where the package is installed (for dist/tools/*, models/default and the plugin API module).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/** The directory holding needled's package.json (found by walking up from this file). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, "utf8")) as { name?: string }).name === "needled") return (root = dir);
      } catch {
        /* keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find needled's package.json above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** dist/ of the package: built-in plugins are dist/tools/<name>/index.js. */
export function distDir(): string {
  return join(packageRoot(), "dist");
}
