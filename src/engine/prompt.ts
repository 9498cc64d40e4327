// Needle's prompt: encoder input = query tokens + [<tools>] + tokens of the tools as Python's compact
// json.dumps writes them (names in snake_case), and the parsing of the answer the decoder writes.
import type { SentencePieceTokenizer } from "./sentencepiece.js";
import { normalizeTools, snakeCase, type NormalizedTool, type ToolLimits } from "./tool-schema.js";
import { EngineError, type ToolCall } from "./types.js";

export { snakeCase };

export const DEFAULT_MAX_ENCODER_LEN = 1024;
const TOOLS_SYMBOL = "<tools>";
const TOOL_CALL_SYMBOL = "<tool_call>";

/** A validated tool set, ready for prompts; build once per tool set and reuse (tokens are cached per tokenizer). */
export interface PreparedTools {
  readonly tools: readonly NormalizedTool[];
  /** `json.dumps(tools, separators=(",", ":"))` of the declarations as the model sees them. */
  readonly json: string;
  /** snake_case name -> declared name. */
  readonly nameMap: ReadonlyMap<string, string>;
}

const toolTokens = new WeakMap<PreparedTools, WeakMap<SentencePieceTokenizer, number[]>>();

/** Validates and serialises tool declarations (EngineError BAD_TOOLS on bad ones; see tool-schema.ts). */
export function prepareTools(tools: unknown, limits?: ToolLimits): PreparedTools {
  const normalized = normalizeTools(tools, limits);
  return {
    tools: normalized,
    json: `[${normalized.map((t) => t.promptJson).join(",")}]`,
    nameMap: new Map(normalized.map((t) => [t.modelName, t.name])),
  };
}

function tokensOfTools(tokenizer: SentencePieceTokenizer, prepared: PreparedTools): number[] {
  let perTokenizer = toolTokens.get(prepared);
  if (!perTokenizer) toolTokens.set(prepared, (perTokenizer = new WeakMap()));
  let ids = perTokenizer.get(tokenizer);
  if (!ids) perTokenizer.set(tokenizer, (ids = tokenizer.encode(prepared.json)));
  return ids;
}

export interface EncoderInput {
  ids: number[];
  /** snake_case name -> declared name, for mapping the answer back. */
  nameMap: ReadonlyMap<string, string>;
  truncated: { query: boolean; tools: boolean };
  /** Number of query tokens kept (the `<tools>` token sits at this index). */
  queryLength: number;
}

export interface EncoderInputOptions {
  /** Encoder length limit (default 1024): the query keeps at most maxLen - 2 tokens, the tools what is left. */
  maxLen?: number;
}

/**
 * Needle's encoder input: `query tokens + [<tools>] + tools tokens`, the query cut to maxLen - 2 tokens and
 * the tools to what is left of maxLen (both keep their beginning). An empty query is allowed (the input is
 * then `<tools>` + tools), as Needle's own code allows it; rejecting empty requests is the caller's policy.
 * `tools` is a PreparedTools or raw declarations (validated here). Throws EngineError BAD_INPUT / BAD_TOOLS,
 * and MODEL_INVALID when the tokenizer has no `<tools>` symbol.
 */
export function buildEncoderInput(
  tokenizer: SentencePieceTokenizer,
  query: string,
  tools: PreparedTools | readonly unknown[],
  options: EncoderInputOptions = {},
): EncoderInput {
  const maxLen = options.maxLen ?? DEFAULT_MAX_ENCODER_LEN;
  if (!Number.isInteger(maxLen) || maxLen < 2) {
    throw new EngineError(`maxLen must be an integer >= 2, got ${maxLen}`, "BAD_INPUT");
  }
  if (typeof query !== "string") throw new EngineError("the query must be a string", "BAD_INPUT");
  const toolsId = tokenizer.pieceToId(TOOLS_SYMBOL);
  if (toolsId === undefined) throw new EngineError(`the tokenizer has no ${TOOLS_SYMBOL} symbol`, "MODEL_INVALID");
  const prepared = Array.isArray(tools) ? prepareTools(tools) : (tools as PreparedTools);

  const queryIds = tokenizer.encode(query);
  const keptQuery = Math.min(queryIds.length, maxLen - 2);
  const toolIds = tokensOfTools(tokenizer, prepared);
  const room = maxLen - keptQuery - 1;
  const keptTools = Math.min(toolIds.length, room);
  const ids = new Array<number>(keptQuery + 1 + keptTools);
  for (let i = 0; i < keptQuery; i++) ids[i] = queryIds[i]!;
  ids[keptQuery] = toolsId;
  for (let i = 0; i < keptTools; i++) ids[keptQuery + 1 + i] = toolIds[i]!;
  return {
    ids,
    nameMap: prepared.nameMap,
    truncated: { query: keptQuery < queryIds.length, tools: keptTools < toolIds.length },
    queryLength: keptQuery,
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The calls in a decoded answer (`[{"name":"...","arguments":{...}}]`, `[]` for no call), with names mapped
 * back to the declared ones (a name not in the map is kept as written). Tolerates surrounding whitespace and a
 * leading `<tool_call>`. Returns null when the text is not such a list: malformed JSON, not an array, an
 * entry without a string name, or arguments that are not an object (missing arguments mean `{}`).
 */
export function parseAnswer(text: string, nameMap: ReadonlyMap<string, string>): ToolCall[] | null {
  if (typeof text !== "string") return null;
  let body = text.trim();
  while (body.startsWith(TOOL_CALL_SYMBOL)) body = body.slice(TOOL_CALL_SYMBOL.length).trimStart();
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  if (!Array.isArray(value)) return null;
  const calls: ToolCall[] = [];
  for (const item of value) {
    if (!isPlainObject(item) || typeof item.name !== "string") return null;
    const args = item.arguments ?? {};
    if (!isPlainObject(args)) return null;
    calls.push({ name: nameMap.get(item.name) ?? item.name, arguments: args });
  }
  return calls;
}
