// loadModelDir / validateModelConfig: every broken model directory is a clear EngineError naming the file or key.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { loadModelDir, validateModelConfig } from "../src/engine/model-dir.js";
import { EngineError } from "../src/engine/types.js";

const GOOD = {
  format: "needled-model/1",
  name: "t",
  architecture: {
    d_model: 64, num_heads: 4, num_kv_heads: 2, head_dim: 16, encoder_layers: 2, decoder_layers: 2,
    vocab_size: 256, rope_theta: 10000, retrieval_dim: 16,
  },
  special_ids: { pad: 0, eos: 1, bos: 2, unk: 3, tool_call: 4, tools: 5 },
  max_encoder_len: 128,
  max_decoder_len: 64,
  quantization: "int8",
  files: { encoder: "encoder.onnx", decoder: "decoder.onnx", tokenizer: "tokenizer.model" },
  source: "extra keys are kept",
};

function withChange(path: string[], value: unknown): unknown {
  const c = structuredClone(GOOD) as Record<string, unknown>;
  let node = c;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string, unknown>;
  if (value === undefined) delete node[path.at(-1)!];
  else node[path.at(-1)!] = value;
  return c;
}

function invalid(raw: unknown): string {
  try {
    validateModelConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe("MODEL_INVALID");
    return (err as Error).message;
  }
  throw new Error("expected MODEL_INVALID");
}

describe("validateModelConfig", () => {
  test("accepts the documented config and keeps extra keys", () => {
    const cfg = validateModelConfig(structuredClone(GOOD));
    expect(cfg.architecture.d_model).toBe(64);
    expect(cfg.source).toBe("extra keys are kept");
  });

  test.each([
    [["format"], "needled-model/2", /config\.json: format must be "needled-model\/1"/],
    [["architecture", "d_model"], undefined, /architecture\.d_model is missing/],
    [["architecture", "num_heads"], 4.5, /architecture\.num_heads must be integer/],
    [["architecture", "vocab_size"], 0, /architecture\.vocab_size must be >= 1/],
    [["architecture", "rope_theta"], -1, /architecture\.rope_theta must be > 0/],
    [["special_ids", "tools"], undefined, /special_ids\.tools is missing/],
    [["special_ids", "eos"], 256, /special_ids\.eos \(256\) is outside the vocabulary \(vocab_size 256\)/],
    [["quantization"], "int2", /quantization must be one of "fp32", "int8", "int4"/],
    [["files", "decoder"], "../x.onnx", /files\.decoder must match pattern/],
    [["architecture", "num_kv_heads"], 3, /num_heads \(4\) must be a multiple of num_kv_heads \(3\)/],
    [["architecture", "head_dim"], 15, /head_dim \(15\) must be even/],
    [["max_decoder_len"], "64", /max_decoder_len must be integer/],
    [["encoder_padding"], "exact", /encoder_padding must be one of "bucket", "none"/],
  ])("%j = %j is refused", (path, value, message) => {
    expect(invalid(withChange(path as string[], value))).toMatch(message);
  });

  test("encoder_padding is optional (models exported before it) and read when present", () => {
    expect(validateModelConfig(structuredClone(GOOD)).encoder_padding).toBeUndefined();
    expect(validateModelConfig({ ...structuredClone(GOOD), encoder_padding: "none" }).encoder_padding).toBe("none");
  });

  test("not an object", () => {
    expect(invalid([1, 2])).toMatch(/config\.json: config must be object/);
  });
});

describe("loadModelDir", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "needle-dir-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const expectError = (fn: () => unknown, code: string, message: RegExp) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe(code);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toMatch(/\n\s+at /); // no stack trace in the message
  };

  test("a complete directory loads with resolved paths", () => {
    writeFileSync(join(dir, "config.json"), JSON.stringify(GOOD));
    for (const f of ["encoder.onnx", "decoder.onnx", "tokenizer.model", "MODEL_CARD.md"]) writeFileSync(join(dir, f), "x");
    const md = loadModelDir(dir);
    expect(md.paths.encoder).toBe(join(dir, "encoder.onnx"));
    expect(md.paths.modelCard).toBe(join(dir, "MODEL_CARD.md"));
    expect(md.config.quantization).toBe("int8");
  });

  test("missing directory, config, graph or tokenizer is MODEL_MISSING naming it", () => {
    expectError(() => loadModelDir(join(dir, "nope")), "MODEL_MISSING", /nope does not exist/);
    expectError(() => loadModelDir(dir), "MODEL_MISSING", /config\.json: missing/);
    writeFileSync(join(dir, "config.json"), JSON.stringify(GOOD));
    expectError(() => loadModelDir(dir), "MODEL_MISSING", /encoder\.onnx: missing \(files\.encoder in .*config\.json\)/);
    writeFileSync(join(dir, "encoder.onnx"), "x");
    writeFileSync(join(dir, "decoder.onnx"), "x");
    expectError(() => loadModelDir(dir), "MODEL_MISSING", /tokenizer\.model: missing/);
    expect(loadModelDir(dir, { requireTokenizer: false }).config.name).toBe("t");
    writeFileSync(join(dir, "config.json"), JSON.stringify(withChange(["files", "weights"], "weights.data")));
    expectError(() => loadModelDir(dir, { requireTokenizer: false }), "MODEL_MISSING",
      /weights\.data: missing \(files\.weights in .*config\.json\)/);
    writeFileSync(join(dir, "weights.data"), "x");
    expect(loadModelDir(dir, { requireTokenizer: false }).paths.weights).toBe(join(dir, "weights.data"));
  });

  test("unparsable or invalid config.json is MODEL_INVALID naming the file", () => {
    writeFileSync(join(dir, "config.json"), "{ not json");
    expectError(() => loadModelDir(dir), "MODEL_INVALID", /config\.json: not valid JSON/);
    writeFileSync(join(dir, "config.json"), JSON.stringify(withChange(["architecture", "head_dim"], undefined)));
    expectError(() => loadModelDir(dir), "MODEL_INVALID", /config\.json: architecture\.head_dim is missing/);
  });
});
