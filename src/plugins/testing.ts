// `needled/testing`: what a plugin's own tests need to build a real context (store, scheduler, notify).
export { createPluginContext } from "../daemon/plugin-context.js";
export type { PluginContextHandle, PluginContextOptions, CallOptions } from "../daemon/plugin-context.js";
