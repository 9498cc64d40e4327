// The engine's boundary types. Everything outside src/engine talks to the model through these.

/** A JSON Schema fragment as found in tool declarations (only the keywords the grammar understands are typed). */
export interface JsonSchema {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema | JsonSchema[];
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  minLength?: number;
  maxLength?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  default?: unknown;
  [keyword: string]: unknown;
}

/** Needle v1's flat parameter map: `{"<arg>": {"type", "description", "required": bool}}`. */
export type FlatParameters = Record<string, JsonSchema & { required?: boolean | string[] }>;

/** A tool as declared to the model (by a plugin, a --tools file, or an HTTP client). */
export interface ToolDeclaration {
  name: string;
  description?: string;
  /** JSON-Schema object (`{"type":"object","properties":...}`) or Needle v1 flat parameters. */
  parameters?: JsonSchema | FlatParameters;
}

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface Prediction {
  /** Tool calls; `[]` means no declared tool serves the request. Always valid against the declared schemas. */
  calls: ToolCall[];
  /** In [0, 1]; see src/engine/confidence.ts for how it is computed. */
  confidence: number;
  /** Wall time of the prediction in milliseconds. */
  ms: number;
  /** Names of the tools that were put in the prompt (differs from the declared set when retrieval kicked in). */
  toolsInPrompt?: string[];
  /** The lowest retrieval similarity (cosine, [-1, 1]) of a called tool to the query; present when the engine
   * scored the tools (retrieval, or a tool-similarity floor: src/engine/abstain.ts) and there are calls. */
  toolSimilarity?: number;
}

export interface PredictOptions {
  /** Retrieval keeps the top K tools in the prompt when more are declared (default from the engine config). */
  maxToolsInPrompt?: number;
  signal?: AbortSignal;
}

/** What the daemon needs from a model: text and tool declarations in, valid tool calls out. */
export interface ToolCaller {
  predict(text: string, tools: ToolDeclaration[], options?: PredictOptions): Promise<Prediction>;
  /** The model's recommended floor: calls with a lower confidence are better treated as no answer
   * (src/engine/abstain.ts). Absent means 0 (never abstain). */
  readonly minConfidence?: number;
  /** The model's recommended tool-similarity floor (src/engine/abstain.ts). Absent means none. */
  readonly minToolSimilarity?: number;
  /** The retrieval similarity of `text` to each of `tools` (declared order), as predictions report it. */
  toolSimilarities?(text: string, tools: ToolDeclaration[]): Promise<number[]>;
  close(): Promise<void>;
}

/** A clear, user-facing engine error (bad model directory, bad tool declaration, bad input). */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly code:
      | "MODEL_MISSING"
      | "MODEL_INVALID"
      | "BAD_TOOLS"
      | "BAD_INPUT"
      | "ABORTED",
  ) {
    super(message);
    this.name = "EngineError";
  }
}
