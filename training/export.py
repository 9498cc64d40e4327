#!/usr/bin/python3
"""Export Needle weights to a model directory (models/FORMAT.md): config.json, encoder.onnx, decoder.onnx,
cross.onnx, weights.data (the graphs' initializers, each tensor once), tokenizer.model.

  python3 training/export.py --checkpoint CKPT.pt|needle.pkl --tokenizer X.model --out DIR --quant int8|int4|fp32
  python3 training/export.py --random [--seed N] --shape needle-26m|tiny [--config JSON] --out DIR --quant int8
  ... --quant int8|int4 --accuracy-report  # + OUT/quant-accuracy.json: vs an fp32 twin (needs npm run build)

`--config` is a JSON object of NeedleConfig fields (for --random; with a checkpoint the architecture comes
from the weights, and the tokenizer must fit it). Graph variants kept for measurements:
--top-k K (decoder I/O 3 with K, the default 64; 0: I/O 2), --enc-attention mha|gqa|matmul, --dec-cache rows|present
(present: decoder I/O 1), --dec-attention
attention|matmul|gqa, --cross-attention matmul|attention, --block-size N (int8 block along K),
--enc-gqa-groups N, --enc-qkv grouped|fused, --cross-kv graph|per_layer|fused, --no-external-data.

Why the defaults (measured with bench/engine-speed.ts and small A/B scripts on the 2-core Zen 5 box, 26M shape;
see needle/onnx_graphs.py for the graph itself):
- Hand-written graphs of fused onnxruntime ops instead of torch.onnx.export: a decoder step is ~230 nodes, many
  of them free Reshapes (measured: a Reshape costs ~0 us, an SLN or an Add 0.3-0.4 us, a 512x512 MatMulNBits
  3.8 us).
- Encoder attention `mha` (com.microsoft.MultiHeadAttention with no mask: onnxruntime's flash kernel, no
  [heads, T, T] scores; config.json `encoder_padding: "none"`, so the engine gives it the exact tokens and runs
  it with onnxruntime's memory arena) instead of `gqa` (GroupQueryAttention, 4 ops per layer): random 26M int8,
  bench engine-speed, one session, 3 runs each: peak RSS encoding 512 tokens 145-148 -> 127-132 MB, 1024 tokens
  173-205 -> 160-165 MB, serving 100 queries 166-173 -> 168-174 MB (unchanged); fp32: 232 / 290 / 282 -> 210 /
  239 / 257 MB; prefill 512 the same within the noise (8.0-10.3k -> 8.2-10.7k tok/s).
- Decoder I/O 2 (the cache stays in the runtime, a step returns only its new rows): onnxruntime-node copies
  every output into a new JS buffer (~3-5 us per output, plus the bytes), and I/O 1 hands back all 16 present
  tensors of the grown cache each step. Measured interleaved in one run (int8 26M, encoder 512, cache 32):
  957 -> 865 us per step (raw sessions in a quiet moment: 881 -> 695 us); d_model-256 default shape 372 ->
  319 us; the per-step garbage drops from 16 KB x cache length to ~16 KB. Self-attention over the rows: ONNX
  Attention beat MatMul attention (transposing the [P, KV, hd] rows each step) by ~25%.
- Decoder I/O 3 (`--top-k 64`, the default): a step also outputs each new token's 64 best logits (TopK), their
  ids and the row's log-sum-exp (from LogSoftmax), and the engine asks for those instead of `logits`: the
  32 KB JS copy of an 8k-vocabulary row per step, garbage V8 frees only at its next GC, is gone. The engine's
  greedy pick under the grammar takes the best allowed token among the 64 and re-runs the step for `logits`
  only when none of them can be proven to be that pick (measured with the step-1907 checkpoint on the 691
  catalogue-dev requests: 0 to 0.16 re-runs per request of 13-36 steps; random weights need it often). The same checkpoint served catalogue-dev with
  the whole catalogue (bench engine-speed-child --serve, node --max-semi-space-size=1): peak RSS 191 -> 168 MB,
  28-29 vs 30-32 ms per request. Step time (int8 26M, decode at cache 32 plus the pick the engine makes):
  1106-1146 -> 1162-1197 steps/s; the graph's TopK + LogSoftmax cost ~2% of a step, the JS argmax and
  log-sum-exp over 8192 logits they replace cost more.
- Cross-attention: plain MatMul with the query heads as [n, KV, G, 1, hd] against K^T [1, KV, 1, hd, T]: every
  product is a 1 x hd x T GEMV that reads K in place; grouping G*n rows per kv head made MLAS pack K each step
  (21 vs 15 us per layer). ONNX Attention on [1, KV, T, hd] K/V was 17% faster alone (8 layers: 142 vs 171 us)
  but the same in the whole step (26M) and 9% slower for the d_model-256 shape; fp16 K/V through it
  (half the bytes) was 20% slower (onnxruntime converts them per head). The cross K/V are ~half of a step at
  T=512 (step at T=16: 562 us, T=512: 1019 us, T=1024: 1363 us).
- int8: MatMulNBits bits=8 accuracy_level=4 (int8 compute; accuracy_level 0-3 are ~60x slower for 8 bits),
  symmetric per-block scales. Block 128 (was 64): decode step -4..-7% for 26M (705 -> 674 us; block 32: +7%),
  the same for the d_model-256 shape; on a trained checkpoint (s1083, d256) int8 vs fp32 over 1314 eval
  positions: mean |dlogit| 0.0226 vs 0.0201, max 0.24 vs 0.32, top-1 agreement 99.8% vs 99.6%. The embedding
  is one uint8 table read by GatherBlockQuantized and the tied output MatMulNBits.
- int4 (`--quant int4`, Needle's own training precision: INT4 fake-quant in groups of 32): MatMulNBits and
  GatherBlockQuantized bits=4, blocks of 32, two weights a byte, each block's scale fitted to the least squared
  rounding error. On the shipped d256 checkpoint vs fp32, mean |dlogit| 0.37 (absmax scales: 0.41; blocks of 16:
  0.32 for more bytes; an int8 embedding with int4 layers: 0.23), top-1 agreement 92.8% (int8 99.2%),
  catalogue-dev call accuracy 0.916 vs 0.922, held-out the same: it was trained without fake-quant, so
  models/default stays int8. Random 26M, seven bench runs beside int8: decode 1.48-1.83k (one run 1.06k) vs
  1.27-1.52k tok/s (a step reads half the weight bytes), prefill 512 7.2-9.2k vs 8.6-10.7k, peak RSS 8-12 MB lower.
- cross.onnx (`--cross-kv graph`, the default): the encoder outputs its final hidden states and a third graph
  projects one decoder layer's cross K/V per run (an If tree on `layer`). onnxruntime-node copies every output
  into a new JS buffer while the run's own outputs are still alive, so an encoder with every layer's K/V as
  outputs held them twice (16 KB per token each for 26M); now at most one layer's are in flight. Prefill 512
  costs ~5-7% more (8 small runs), retrieval embeddings no longer compute K/V; peak RSS: bench/engine-speed.ts.
- weights.data: one external-data file for both graphs (the embedding once: 29 MB instead of 33 MB for int8
  26M) that onnxruntime maps; 16 MB less RSS after loading than weights inside the .onnx files. Only what
  stays in use (the gathered embedding rows, small tensors) remains mapped after prepacking: ~5.6 MB of it
  is resident after loading the int8 26M model; the int8 matrices live once, as MatMulNBits' prepacked copy.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import onnx  # noqa: E402

from needle.checkpoint import load_any  # noqa: E402
from needle.config import SHAPES, NeedleConfig  # noqa: E402
from needle.onnx_graphs import (GraphOptions, build_cross, build_decoder, build_encoder, effective_options,  # noqa: E402
                                externalize)
from needle.random_weights import random_flat  # noqa: E402
from needle.tree import CheckpointError, validate  # noqa: E402

FORMAT = "needled-model/1"


class ExportError(Exception):
    pass


SPECIAL_PIECES = {"pad_id": "<pad>", "eos_id": "</s>", "bos_id": "<s>", "unk_id": "<unk>",
                  "tool_call_id": "<tool_call>", "tools_id": "<tools>"}


def check_tokenizer(path: str, c: NeedleConfig) -> None:
    """The tokenizer must have the model's vocabulary size and Needle's special pieces at the model's ids."""
    if not os.path.isfile(path):
        raise ExportError(f"tokenizer not found: {path}")
    try:
        import sentencepiece as spm
    except ImportError:  # pragma: no cover - Debian's python3 has it
        print("export: warning: sentencepiece is not installed; tokenizer not checked", file=sys.stderr)
        return
    try:
        sp = spm.SentencePieceProcessor(model_file=path)
    except Exception as e:
        raise ExportError(f"{path} is not a SentencePiece model: {e}") from None
    if sp.get_piece_size() != c.vocab_size:
        raise ExportError(f"{path} has {sp.get_piece_size()} pieces but the checkpoint's vocabulary is {c.vocab_size}")
    for key, piece in SPECIAL_PIECES.items():
        i = getattr(c, key)
        if sp.id_to_piece(i) != piece:
            raise ExportError(f"{path}: id {i} ({key}) is {sp.id_to_piece(i)!r}, expected {piece!r}")


def config_json(c: NeedleConfig, opts: GraphOptions, name: str, source: str, extra: dict | None = None) -> dict:
    return {
        "format": FORMAT,
        "name": name,
        "architecture": {
            "d_model": c.d_model, "num_heads": c.num_heads, "num_kv_heads": c.num_kv_heads,
            "head_dim": c.head_dim, "encoder_layers": c.encoder_layers, "decoder_layers": c.decoder_layers,
            "vocab_size": c.vocab_size, "rope_theta": c.rope_theta, "retrieval_dim": c.retrieval_dim,
        },
        "special_ids": {"pad": c.pad_id, "eos": c.eos_id, "bos": c.bos_id, "unk": c.unk_id,
                        "tool_call": c.tool_call_id, "tools": c.tools_id},
        "max_encoder_len": c.max_encoder_len,
        "max_decoder_len": c.max_decoder_len,
        "quantization": opts.quant,
        "encoder_padding": opts.encoder_padding,
        "files": {"encoder": "encoder.onnx", "decoder": "decoder.onnx", "tokenizer": "tokenizer.model"},
        "source": source,
        "created": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "graph": {"io": opts.io_version, "cross_k_layout": opts.cross_k_layout,
                  "enc_attention": opts.enc_attention, "dec_attention": opts.dec_attention,
                  "dec_cache": opts.dec_cache, "cross_attention": opts.cross_attention,
                  "enc_gqa_groups": opts.enc_gqa_groups, "enc_qkv": opts.enc_qkv, "cross_kv": opts.cross_kv,
                  **({"top_k": min(opts.top_k, c.vocab_size)} if opts.top_k else {}),
                  **({"bits": opts.bits, "block_size": opts.block, "accuracy_level": opts.accuracy_level}
                     if opts.quant != "fp32" else {})},
        **(extra or {}),
    }


WEIGHTS = "weights.data"
CROSS = "cross.onnx"
# The exporter's decoder I/O: 3 with the 64 best logits per token (GraphOptions itself defaults to I/O 2, which
# the cross-language tests of the graph variants build on).
DEFAULT_TOP_K = 64


def _save(model: onnx.ModelProto, path: str) -> None:
    # onnx.checker rejects onnxruntime's SimplifiedLayerNormalization (registered by ORT in the default
    # domain), so validation is left to onnxruntime, which the tests run on every exported graph.
    # Serialised directly: the initializers already point at weights.data (see externalize).
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def export_model_dir(flat: dict[str, np.ndarray], c: NeedleConfig, out: str, opts: GraphOptions, *,
                     tokenizer: str | None, name: str = "needled-default", source: str = "",
                     extra: dict | None = None, external_data: bool = True) -> dict:
    """Write a complete model directory atomically (temp dir + rename). Returns the config.json dict."""
    flat = validate(flat, c)
    if tokenizer is not None and not os.path.isfile(tokenizer):
        raise ExportError(f"tokenizer not found: {tokenizer}")
    parent = os.path.dirname(os.path.abspath(out)) or "."
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        graphs = {"encoder.onnx": build_encoder(flat, c, opts), "decoder.onnx": build_decoder(flat, c, opts)}
        if opts.cross_kv == "graph":
            graphs[CROSS] = build_cross(flat, c, opts)
        if external_data:
            # one weights file for both graphs: the embedding is stored once, and onnxruntime maps the file
            # instead of copying it out of the protobuf (measured: 16 MB less RSS for the int8 26M model)
            externalize(list(graphs.values()), os.path.join(tmp, WEIGHTS), WEIGHTS)
        for fname, g in graphs.items():
            _save(g, os.path.join(tmp, fname))
        if tokenizer is not None:
            shutil.copyfile(tokenizer, os.path.join(tmp, "tokenizer.model"))
        cfg = config_json(c, effective_options(c, opts), name, source, extra)
        if external_data:
            cfg["files"]["weights"] = WEIGHTS
        if opts.cross_kv == "graph":
            cfg["files"]["cross"] = CROSS
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        if os.path.isdir(out):
            old = out.rstrip("/") + f".old{os.getpid()}"
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return cfg


def accuracy_report(flat: dict[str, np.ndarray], c: NeedleConfig, quant_dir: str, *, tokenizer: str | None) -> int:
    """Measure the quantized (int8 or int4) directory against an fp32 export of the same weights
    (bench/quant-accuracy.ts)."""
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tool = os.path.join(root, "dist", "bench", "quant-accuracy.js")
    if not os.path.isfile(tool):
        print(f"export: error: {tool} not found; run `npm run build` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="needle-fp32-") as tmp:
        twin = os.path.join(tmp, "fp32")
        export_model_dir(flat, c, twin, GraphOptions(quant="fp32"), tokenizer=tokenizer, name="fp32-twin")
        r = subprocess.run(["node", tool, "--quant", quant_dir, "--fp32", twin, "--write"], cwd=root)
    return 0 if r.returncode == 0 else 2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="training checkpoint (.pt) or official needle.pkl")
    src.add_argument("--random", action="store_true", help="random weights (speed benches, tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--shape", choices=sorted(SHAPES), help="named architecture for --random")
    p.add_argument("--config", help="JSON object of NeedleConfig fields for --random (overrides --shape)")
    p.add_argument("--tokenizer", help="SentencePiece model to copy in as tokenizer.model")
    p.add_argument("--out", required=True, help="model directory to write (replaced atomically)")
    p.add_argument("--quant", choices=["int8", "int4", "fp32"], required=True)
    p.add_argument("--name", default=None)
    p.add_argument("--block-size", type=int, default=GraphOptions.block_size,
                   help="quantization block along K (default 128 for int8, 32 for int4)")
    p.add_argument("--accuracy-level", type=int, default=4)
    p.add_argument("--enc-attention", choices=["mha", "gqa", "matmul"], default=GraphOptions.enc_attention,
                   help="encoder attention: mha (default; MultiHeadAttention without a mask, exact-length input), "
                        "gqa (GroupQueryAttention, masked, the engine pads) or matmul")
    p.add_argument("--dec-attention", choices=["gqa", "matmul", "attention"], default=None,
                   help="decoder self-attention (default: attention with --dec-cache rows, gqa with present)")
    p.add_argument("--dec-cache", choices=["rows", "present"], default=GraphOptions.dec_cache)
    p.add_argument("--cross-attention", choices=["matmul", "attention"], default=GraphOptions.cross_attention)
    p.add_argument("--enc-gqa-groups", type=int, choices=[1, 2, 4], default=GraphOptions.enc_gqa_groups)
    p.add_argument("--enc-qkv", choices=["grouped", "fused"], default=GraphOptions.enc_qkv,
                   help="encoder GQA: a q|k|v matmul per GQA op (grouped, default) or one per layer (fused)")
    p.add_argument("--cross-kv", choices=["graph", "per_layer", "fused"], default=GraphOptions.cross_kv,
                   help="graph (default): the encoder outputs its hidden states and cross.onnx projects one decoder "
                        "layer's cross K/V per run; per_layer/fused: the encoder outputs every layer's K/V (older "
                        "model directories)")
    p.add_argument("--top-k", type=int, default=None,
                   help="decoder I/O 3: also output the top K logits per token and their log-sum-exp; 0: I/O 2 "
                        f"(default {DEFAULT_TOP_K} with --dec-cache rows, 0 with present)")
    p.add_argument("--accuracy-report", action="store_true",
                   help="int8/int4 only: also export an fp32 twin to a temp dir and measure the quantised vs fp32 "
                        "logits on eval inputs with onnxruntime-node (needs `npm run build`); writes "
                        "OUT/quant-accuracy.json")
    p.add_argument("--no-external-data", action="store_true",
                   help="keep the weights inside encoder.onnx/decoder.onnx instead of one shared weights.data")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    try:
        opts = GraphOptions(quant=a.quant, block_size=a.block_size, accuracy_level=a.accuracy_level,
                            enc_attention=a.enc_attention,
                            dec_attention=a.dec_attention or ("gqa" if a.dec_cache == "present" else
                                                              GraphOptions.dec_attention),
                            dec_cache=a.dec_cache, cross_attention=a.cross_attention,
                            enc_gqa_groups=a.enc_gqa_groups, enc_qkv=a.enc_qkv, cross_kv=a.cross_kv,
                            top_k=a.top_k if a.top_k is not None else (DEFAULT_TOP_K if a.dec_cache == "rows" else 0))
        if a.random:
            base = SHAPES[a.shape] if a.shape else NeedleConfig()
            if a.config:
                try:
                    over = json.loads(a.config)
                except json.JSONDecodeError as e:
                    raise ExportError(f"--config is not valid JSON: {e}") from None
                if not isinstance(over, dict):
                    raise ExportError("--config must be a JSON object")
                base = NeedleConfig.from_dict({**base.to_dict(), **over})
            c, flat, source = base, random_flat(base, a.seed), f"random(seed={a.seed})"
        else:
            if a.shape or a.config:
                raise ExportError("--shape/--config apply to --random; a checkpoint carries its architecture")
            c, flat = load_any(a.checkpoint)
            source = os.path.basename(a.checkpoint)
        if a.tokenizer is None and not a.random:
            raise ExportError("--tokenizer is required when exporting a checkpoint")
        if a.tokenizer is not None and not a.random:
            check_tokenizer(a.tokenizer, c)
        cfg = export_model_dir(flat, c, a.out, opts, tokenizer=a.tokenizer,
                               name=a.name or ("needle-random" if a.random else "needled-default"), source=source,
                               external_data=not a.no_external_data)
    except (ExportError, CheckpointError, ValueError) as e:
        print(f"export: error: {e}", file=sys.stderr)
        return 2
    if a.accuracy_report and a.quant != "fp32":
        rc = accuracy_report(flat, c, a.out, tokenizer=a.tokenizer)
        if rc != 0:
            return rc
    sizes = {f: os.path.getsize(os.path.join(a.out, f)) for f in ("encoder.onnx", "decoder.onnx", CROSS, WEIGHTS)
             if os.path.exists(os.path.join(a.out, f))}
    print(json.dumps({"out": a.out, "quantization": cfg["quantization"],
                      "bytes": sizes, "total_mb": round(sum(sizes.values()) / 1e6, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
