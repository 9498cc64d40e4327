// Grammar-constrained decoding compiled from the tools' JSON Schema. Design and keywords: README.md.
export { ToolGrammar, TokenGrammar, compileGrammar } from "./grammar.js";
export type { GrammarState, GrammarOptions, PickResult, ForcedTokens } from "./grammar.js";
export { Vocabulary } from "./vocabulary.js";
export type { VocabularyOptions, TokenizerLike } from "./vocabulary.js";
export { DEFAULT_LIMITS } from "./compile.js";
export type { ToolSchema, CompileLimits } from "./compile.js";
export { decodeConstrained } from "./decode.js";
export type { DecodeOptions, DecodeResult, DecodeStatus } from "./decode.js";
export { SIG_DIGITS } from "./decimal.js";
