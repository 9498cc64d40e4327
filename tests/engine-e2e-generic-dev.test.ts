// The schema-validity target: every answer of the engine on every line of shared/eval/generic-dev.jsonl (each line
// declares its own tools) validates with ajv against that line's declared schemas, or is []. Real sessions on the
// trained model (models/default, or a checkpoint export until it exists). Skipped only when the shared file is
// absent. This measures; the dev set is not used for anything else.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { NeedleEngine, openEngine } from "../src/engine/index.js";
import { parseJsonPreservingNumbers } from "../src/engine/python-json.js";
import type { ToolDeclaration } from "../src/engine/types.js";
import { evalDir, trainedModel, type ModelHandle } from "./helpers/needle-models.js";

const kit = evalDir();
const trained = trainedModel();

interface Item {
  id: string;
  query: string;
  tools: Array<{ name: string; parameters?: object }>;
}

describe.skipIf(!kit || "skip" in trained)("generic-dev: 100% schema-valid answers", () => {
  const model = trained as ModelHandle;
  let engine: NeedleEngine;
  beforeAll(async () => {
    engine = await openEngine({ modelDir: model.dir });
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    model.cleanup();
  });

  test("every call names a declared tool and validates against its parameters", async () => {
    const lines = readFileSync(join(kit!, "generic-dev.jsonl"), "utf8").split("\n").filter((l) => l.trim() !== "");
    expect(lines.length).toBeGreaterThan(200);
    const ajv = new Ajv({ strict: false, validateFormats: false, allowUnionTypes: true });
    const problems: string[] = [];
    let calls = 0;
    for (const line of lines) {
      const item = JSON.parse(line) as Item;
      // the tools as a --batch line or a --tools file gives them: numbers keep their spelling
      const tools = (parseJsonPreservingNumbers(line) as { tools: ToolDeclaration[] }).tools;
      let p;
      try {
        p = await engine.predict(item.query, tools);
      } catch (err) {
        problems.push(`${item.id}: ${(err as Error).message}`);
        continue;
      }
      expect(p.confidence).toBeGreaterThanOrEqual(0);
      expect(p.confidence).toBeLessThanOrEqual(1);
      for (const c of p.calls) {
        calls++;
        const tool = item.tools.find((t) => t.name === c.name);
        if (!tool) {
          problems.push(`${item.id}: undeclared tool ${c.name}`);
          continue;
        }
        if (!ajv.validate(tool.parameters ?? {}, c.arguments)) {
          problems.push(`${item.id}: ${JSON.stringify(c)}: ${ajv.errorsText()}`);
        }
      }
    }
    console.log(`generic-dev: ${lines.length} lines, ${calls} calls, ${problems.length} problems`);
    expect(problems, problems.join("\n")).toEqual([]);
  }, 1_800_000);
});
