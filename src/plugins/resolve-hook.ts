// A module resolve hook (runs in Node's loader thread, registered by loader.ts): `import ... from "needled"`
// in a plugin that lives anywhere on disk resolves to THIS daemon's plugin API, so a user plugin needs no
// node_modules of its own and every plugin shares one copy of definePlugin/ToolError.
import type { InitializeHook, ResolveHook } from "node:module";

let targets: Record<string, string> = {};

export const initialize: InitializeHook<{ targets: Record<string, string> }> = (data) => {
  targets = data.targets;
};

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const url = targets[specifier];
  if (url) return { url, format: "module", shortCircuit: true };
  return nextResolve(specifier, context);
};
