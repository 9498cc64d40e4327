// The part of a long query the model can see. Needle keeps the first max_encoder_len - 2 tokens of the query
// (prompt.ts); tokenizing a 100 kB text to keep its first 1022 tokens is wasted work, so a long text is cut at a
// space far enough in and only the cut is tokenized, when that provably gives the same first tokens.
//
// Why a cut at a space is exact: sentencepiece normalises a space to "▁" in front of the next word, and when
// no piece of the vocabulary has "▁" after its first character (a BPE vocabulary trained with
// split_by_whitespace, as Needle's is), no merge crosses that boundary: the tokens of the words before the
// space do not depend on what follows. `cutIsExact` checks that property once per tokenizer; without it, or
// when the text has no space late enough, the whole text is tokenized.
import type { SentencePieceTokenizer } from "./sentencepiece.js";
import { EngineError } from "./types.js";

/** Longest text accepted (characters); longer is EngineError BAD_INPUT. The model sees ~1022 tokens of it. */
export const MAX_TEXT_CHARS = 1_000_000;

/** True when no piece holds "▁" (or a space) after its first character: cuts at spaces are then exact. */
export function cutIsExact(tokenizer: SentencePieceTokenizer): boolean {
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    const kind = tokenizer.pieceKind(id);
    if (kind === "byte" || kind === "control" || kind === "unknown") continue;
    const piece = tokenizer.idToPiece(id);
    const rest = piece.slice(1);
    if (rest.includes("\u2581") || rest.includes(" ") || (kind === "user_defined" && piece.includes(" "))) return false;
  }
  return true;
}

export interface QueryHead {
  /** The text to build the prompt from: `text` itself, or a prefix of it ending before a space. */
  text: string;
  /** Its tokens (sentencepiece `encode`): the first tokens of the whole text's, at least `need` when it has them. */
  ids: number[];
  /** True when `text` is a cut. */
  cut: boolean;
}

/** Characters tried per needed token before a cut (tokens of ordinary text average 3-5 characters). */
const CHARS_PER_TOKEN = 8;

/**
 * The head of `text` that holds its first `need` tokens. `exact` is `cutIsExact(tokenizer)`.
 * Throws EngineError BAD_INPUT for text that is not a string or is longer than MAX_TEXT_CHARS.
 */
export function queryHead(tokenizer: SentencePieceTokenizer, text: string, need: number, exact: boolean): QueryHead {
  if (typeof text !== "string") throw new EngineError("the text must be a string", "BAD_INPUT");
  if (text.length > MAX_TEXT_CHARS) {
    throw new EngineError(`the text is ${text.length} characters long; at most ${MAX_TEXT_CHARS} are accepted ` +
      `(the model reads only its first ${need} tokens)`, "BAD_INPUT");
  }
  let budget = Math.max(need, 1) * CHARS_PER_TOKEN;
  while (exact && budget < text.length) {
    const at = text.indexOf(" ", budget);
    if (at < 0) break;
    const head = text.slice(0, at);
    const ids = tokenizer.encode(head);
    if (ids.length >= need) return { text: head, ids, cut: true };
    budget = at * 2;
  }
  return { text, ids: tokenizer.encode(text), cut: false };
}
