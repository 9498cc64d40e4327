#!/usr/bin/python3
"""Train the SentencePiece BPE tokenizer (Needle v1 layout) on generated text.

  /usr/bin/python3 training/train_tokenizer.py --data training/data/train.jsonl --out training/runs/tok/needle

Text = queries + the compact JSON of each sample's declared tools (exactly as the prompt has it) + answers.
Ids: pad 0, eos 1, bos 2, unk 3, <tool_call> 4, <tools> 5; byte fallback; normalization identity; dummy
prefix on. Digits are split (each digit its own piece), so numbers are copied digit by digit.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile

import sentencepiece as spm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from needle_prompt import answer_text, tools_text  # noqa: E402


def build_corpus(data: str, out_txt: str, max_tool_lines: int, max_queries: int, seed: int) -> int:
    rng = random.Random(seed)
    n = 0
    with open(data) as f, open(out_txt, "w") as o:
        for i, line in enumerate(f):
            s = json.loads(line)
            if i < max_queries:
                o.write(s["query"].replace("\n", " ") + "\n")
                o.write(answer_text(s["answer"]) + "\n")
                n += 2
            if i < max_tool_lines:
                tools = s["tools"]
                if len(tools) > 6:  # long lines: keep the corpus balanced between prose and JSON
                    tools = rng.sample(tools, 6)
                o.write(tools_text(tools) + "\n")
                n += 1
            if i >= max(max_tool_lines, max_queries):
                break
    return n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--data", required=True, help="training JSONL from `python3 -m datagen`")
    ap.add_argument("--out", required=True, help="model prefix: writes PREFIX.model and PREFIX.vocab")
    ap.add_argument("--vocab-size", type=int, default=8192)
    ap.add_argument("--queries", type=int, default=200000, help="samples whose query+answer go in the corpus")
    ap.add_argument("--tool-lines", type=int, default=40000, help="samples whose tool JSON goes in the corpus")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        txt = os.path.join(tmp, "corpus.txt")
        n = build_corpus(args.data, txt, args.tool_lines, args.queries, args.seed)
        print(f"corpus: {n} lines", file=sys.stderr)
        spm.SentencePieceTrainer.train(
            input=txt, model_prefix=args.out, model_type="bpe", vocab_size=args.vocab_size,
            pad_id=0, eos_id=1, bos_id=2, unk_id=3, pad_piece="<pad>", eos_piece="</s>", bos_piece="<s>",
            unk_piece="<unk>", user_defined_symbols=["<tool_call>", "<tools>"], byte_fallback=True,
            normalization_rule_name="identity", add_dummy_prefix=True, remove_extra_whitespaces=False,
            character_coverage=1.0, split_digits=True, max_sentence_length=32768,
            input_sentence_size=2000000, shuffle_input_sentence=True, num_threads=2, seed_sentencepiece_size=1000000,
            train_extremely_large_corpus=False, minloglevel=1,
        )
    sp = spm.SentencePieceProcessor(model_file=args.out + ".model")
    assert sp.piece_to_id("<tool_call>") == 4 and sp.piece_to_id("<tools>") == 5, "special ids moved"
    assert (sp.pad_id(), sp.eos_id(), sp.bos_id(), sp.unk_id()) == (0, 1, 2, 3)
    print(f"wrote {args.out}.model (vocab {sp.get_piece_size()})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
