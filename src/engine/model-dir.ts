// The model directory (models/FORMAT.md, format `needled-model/1`): read and validate config.json, resolve
// the files. Every problem is an EngineError naming the file or key and the reason (never a stack trace).
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { EngineError } from "./types.js";

export const MODEL_FORMAT = "needled-model/1";

export interface ModelArchitecture {
  d_model: number;
  num_heads: number;
  num_kv_heads: number;
  head_dim: number;
  encoder_layers: number;
  decoder_layers: number;
  vocab_size: number;
  rope_theta: number;
  retrieval_dim: number;
}

export interface SpecialIds {
  pad: number;
  eos: number;
  bos: number;
  unk: number;
  tool_call: number;
  tools: number;
}

export interface ModelConfig {
  format: typeof MODEL_FORMAT;
  name: string;
  architecture: ModelArchitecture;
  special_ids: SpecialIds;
  max_encoder_len: number;
  max_decoder_len: number;
  quantization: "fp32" | "int8" | "int4";
  /** "bucket" (also when absent: models exported before the key): the engine pads the encoder's input at the end
   * to a size class; "none": it gives the encoder the exact tokens (an encoder without an attention mask, which
   * runs on the real tokens only, so padding would only cost). */
  encoder_padding?: "bucket" | "none";
  /** `weights`: the external-data file the graphs read their initializers from (when the exporter wrote one);
   * `cross`: the graph projecting one decoder layer's cross K/V from the encoder's hidden states (models whose
   * encoder outputs `encoder_hidden` instead of every layer's `cross_k_i`/`cross_v_i`). */
  files: { encoder: string; decoder: string; tokenizer: string; weights?: string; cross?: string };
  /** Extra keys (source, created, measured accuracy, ...) are kept as they are. */
  [extra: string]: unknown;
}

export interface ModelDir {
  dir: string;
  config: ModelConfig;
  paths: { config: string; encoder: string; decoder: string; tokenizer: string; weights?: string; cross?: string;
    modelCard?: string };
}

export interface LoadModelDirOptions {
  /** Fail when tokenizer.model is absent (default true; speed benches of random models run without one). */
  requireTokenizer?: boolean;
}

const positiveInt = { type: "integer", minimum: 1 };
const tokenId = { type: "integer", minimum: 0 };
const fileName = { type: "string", minLength: 1, pattern: "^[^/\\\\]+$" };

const SCHEMA = {
  type: "object",
  required: ["format", "architecture", "special_ids", "max_encoder_len", "max_decoder_len", "quantization", "files"],
  properties: {
    format: { const: MODEL_FORMAT },
    name: { type: "string" },
    architecture: {
      type: "object",
      required: ["d_model", "num_heads", "num_kv_heads", "head_dim", "encoder_layers", "decoder_layers", "vocab_size",
        "rope_theta", "retrieval_dim"],
      properties: {
        d_model: positiveInt, num_heads: positiveInt, num_kv_heads: positiveInt, head_dim: positiveInt,
        encoder_layers: positiveInt, decoder_layers: positiveInt, vocab_size: positiveInt,
        rope_theta: { type: "number", exclusiveMinimum: 0 }, retrieval_dim: positiveInt,
      },
    },
    special_ids: {
      type: "object",
      required: ["pad", "eos", "bos", "unk", "tool_call", "tools"],
      properties: { pad: tokenId, eos: tokenId, bos: tokenId, unk: tokenId, tool_call: tokenId, tools: tokenId },
    },
    max_encoder_len: positiveInt,
    max_decoder_len: positiveInt,
    quantization: { enum: ["fp32", "int8", "int4"] },
    encoder_padding: { enum: ["bucket", "none"] },
    files: {
      type: "object",
      required: ["encoder", "decoder", "tokenizer"],
      properties: { encoder: fileName, decoder: fileName, tokenizer: fileName, weights: fileName, cross: fileName },
    },
  },
} as const;

let validate: ReturnType<Ajv["compile"]> | undefined;

function describe(e: ErrorObject): string {
  const at = e.instancePath ? e.instancePath.slice(1).replaceAll("/", ".") : "";
  if (e.keyword === "required") {
    const key = (e.params as { missingProperty: string }).missingProperty;
    return `${at ? `${at}.` : ""}${key} is missing`;
  }
  if (e.keyword === "const") return `${at} must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
  if (e.keyword === "enum") {
    return `${at} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  return `${at || "config"} ${e.message ?? "is invalid"}`;
}

/** Validate a parsed config.json (pure: no file access). Throws EngineError MODEL_INVALID. */
export function validateModelConfig(raw: unknown, where = "config.json"): ModelConfig {
  validate ??= new Ajv({ allErrors: false, strict: false }).compile(SCHEMA);
  if (!validate(raw)) {
    const err = validate.errors?.[0];
    throw new EngineError(`${where}: ${err ? describe(err) : "invalid"}`, "MODEL_INVALID");
  }
  const cfg = raw as ModelConfig;
  const a = cfg.architecture;
  const bad = (msg: string): never => {
    throw new EngineError(`${where}: ${msg}`, "MODEL_INVALID");
  };
  if (a.num_heads % a.num_kv_heads !== 0) {
    bad(`architecture.num_heads (${a.num_heads}) must be a multiple of num_kv_heads (${a.num_kv_heads})`);
  }
  if (a.head_dim % 2 !== 0) bad(`architecture.head_dim (${a.head_dim}) must be even (RoPE rotates halves)`);
  for (const [k, v] of Object.entries(cfg.special_ids)) {
    if (v >= a.vocab_size) bad(`special_ids.${k} (${v}) is outside the vocabulary (vocab_size ${a.vocab_size})`);
  }
  return cfg;
}

/** Read and validate `dir/config.json` and resolve the model files. */
export function loadModelDir(dir: string, options: LoadModelDirOptions = {}): ModelDir {
  const root = resolve(dir);
  if (!existsSync(root)) throw new EngineError(`model directory ${root} does not exist`, "MODEL_MISSING");
  if (!statSync(root).isDirectory()) throw new EngineError(`model directory ${root} is not a directory`, "MODEL_MISSING");
  const configPath = join(root, "config.json");
  let text: string;
  try {
    text = readFileSync(configPath, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new EngineError(
      `${configPath}: ${code === "ENOENT" ? "missing" : `unreadable (${code ?? (err as Error).message})`}`,
      "MODEL_MISSING",
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new EngineError(`${configPath}: not valid JSON (${(err as Error).message})`, "MODEL_INVALID");
  }
  const config = validateModelConfig(raw, configPath);
  const paths: ModelDir["paths"] = {
    config: configPath,
    encoder: join(root, config.files.encoder),
    decoder: join(root, config.files.decoder),
    tokenizer: join(root, config.files.tokenizer),
  };
  const need: Array<[string, string]> = [["encoder", paths.encoder], ["decoder", paths.decoder]];
  if (config.files.weights !== undefined) {
    paths.weights = join(root, config.files.weights);
    need.push(["weights", paths.weights]);
  }
  if (config.files.cross !== undefined) {
    paths.cross = join(root, config.files.cross);
    need.push(["cross", paths.cross]);
  }
  if (options.requireTokenizer ?? true) need.push(["tokenizer", paths.tokenizer]);
  for (const [what, p] of need) {
    if (!existsSync(p)) throw new EngineError(`${p}: missing (files.${what} in ${configPath})`, "MODEL_MISSING");
  }
  const card = join(root, "MODEL_CARD.md");
  if (existsSync(card)) paths.modelCard = card;
  return { dir: root, config, paths };
}
