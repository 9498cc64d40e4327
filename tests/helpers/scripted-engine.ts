// TEST DOUBLE (named as such): a ToolCaller that answers from a script of exact texts. Used only where a
// test needs predictions the real model cannot be made to give on demand (a chosen confidence around the
// policy threshold, a call to a fixture tool). End-to-end tests with the real engine live in
// tests/daemon-e2e.test.ts.
import type { Prediction, ToolCall, ToolCaller, ToolDeclaration } from "../../src/engine/types.js";

export interface ScriptedEngine extends ToolCaller {
  /** Every predict() call: the text and the tool names it was given. */
  seen: Array<{ text: string; tools: string[] }>;
  closed: boolean;
}

export function scriptedEngine(script: Record<string, { calls: ToolCall[]; confidence?: number }>): ScriptedEngine {
  const e: ScriptedEngine = {
    seen: [],
    closed: false,
    async predict(text: string, tools: ToolDeclaration[]): Promise<Prediction> {
      e.seen.push({ text, tools: tools.map((t) => t.name) });
      const hit = script[text];
      return { calls: hit?.calls ?? [], confidence: hit?.confidence ?? 0.9, ms: 0.1 };
    },
    async close() {
      e.closed = true;
    },
  };
  return e;
}
