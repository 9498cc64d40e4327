"""Exporter structure checks (numerics run in onnxruntime-node: tests/engine-onnx.test.ts)."""
import json
import os
import sys

import onnx
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from export import main as export_main  # noqa: E402


def load(d, name):
    return onnx.load(os.path.join(d, name), load_external_data=False)


def test_int8_26m_model_directory_is_small_and_shares_the_embedding(tmp_path):
    out = tmp_path / "m"
    assert export_main(["--random", "--shape", "needle-26m", "--quant", "int8", "--out", str(out)]) == 0
    sizes = {f: (out / f).stat().st_size for f in os.listdir(out)}
    total = sizes["encoder.onnx"] + sizes["decoder.onnx"] + sizes["weights.data"]
    # 26.3M parameters as int8 + one fp32 scale per 64 weights, the embedding stored once
    assert 26e6 < total < 30e6, sizes
    assert sizes["encoder.onnx"] < 200_000 and sizes["decoder.onnx"] < 200_000
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["quantization"] == "int8" and cfg["files"]["weights"] == "weights.data"
    assert cfg["graph"]["block_size"] == 128 and cfg["graph"]["accuracy_level"] == 4

    dec, enc = load(out, "decoder.onnx"), load(out, "encoder.onnx")
    # the decoder's input gather and tied output projection read the same uint8 table
    users = [n.op_type for n in dec.graph.node if "embedding_q" in n.input]
    assert sorted(users) == ["GatherBlockQuantized", "MatMulNBits"]
    # ... and the encoder's copy points at the same bytes of weights.data
    where = {}
    for g, m in (("enc", enc), ("dec", dec)):
        t = next(i for i in m.graph.initializer if i.name == "embedding_q")
        where[g] = {e.key: e.value for e in t.external_data}
    assert where["enc"] == where["dec"] and where["enc"]["location"] == "weights.data"
    ops = {n.op_type for n in dec.graph.node}
    # decoder I/O 2: ONNX Attention (opset 23) over the cache rows + this step's rows, which go out as one tensor
    assert {"MatMulNBits", "Attention", "RotaryEmbedding", "SkipSimplifiedLayerNormalization"} <= ops
    assert "GroupQueryAttention" not in ops
    assert "MatMul" in ops  # cross-attention against the encoder's K/V
    # decoder I/O 3 (the default): the 64 best logits per token and the log-sum-exp besides the whole row
    assert {o.name for o in dec.graph.output} == {"logits", "new_self_kv", "top_logits", "top_ids", "logsumexp"}
    assert {"TopK", "LogSoftmax"} <= ops
    top = next(o for o in dec.graph.output if o.name == "top_ids")
    assert top.type.tensor_type.elem_type == onnx.TensorProto.INT32
    assert [d.dim_value or d.dim_param for d in top.type.tensor_type.shape.dim] == [1, "n", 64]
    assert [i.name for i in dec.graph.input if i.name.startswith("past_self_")][:2] == ["past_self_k_0", "past_self_v_0"]
    assert next(o.version for o in dec.opset_import if o.domain == "") == 23
    assert next(o.version for o in enc.opset_import if o.domain == "") == 17
    assert cfg["graph"]["io"] == 3 and cfg["graph"]["top_k"] == 64 and cfg["graph"]["cross_k_layout"] == "bnhs"
    nbits = [n for n in dec.graph.node if n.op_type == "MatMulNBits"]
    assert len(nbits) == 8 * 4 + 1  # qkv, self out, cross q, cross out per layer + the output projection
    # encoder: a q|k|v matmul per attention op (4 per layer: one per kv head) + the output projection
    assert sum(n.op_type == "MatMulNBits" for n in enc.graph.node) == 12 * (4 + 1)
    assert cfg["graph"]["enc_qkv"] == "grouped"
    # encoder attention "mha" (the default): MultiHeadAttention with no mask input (onnxruntime's flash path),
    # on the real tokens only, which config.json tells the engine
    mha = [n for n in enc.graph.node if n.op_type == "MultiHeadAttention"]
    assert len(mha) == 12 * 4 and all(len(n.input) == 3 for n in mha)
    assert "GroupQueryAttention" not in {n.op_type for n in enc.graph.node}
    assert cfg["graph"]["enc_attention"] == "mha" and cfg["encoder_padding"] == "none"
    attrs = {a.name: a.i for a in nbits[0].attribute}
    assert attrs["bits"] == 8 and attrs["accuracy_level"] == 4 and attrs["block_size"] == 128


def test_int4_packs_two_weights_per_byte_low_nibble_first():
    import numpy as np
    from needle.onnx_graphs import dequantize_rows, quantize_rows
    w = np.array([[0.7, -0.7, 0.1, 0.0, -0.2, 0.33, 0.04, -0.06]], np.float32)   # one row, one block of 8
    q, s = quantize_rows(w, 8, bits=4)
    assert q.shape == (1, 4) and q.dtype == np.uint8 and s.shape == (1, 1)
    assert s[0, 0] == np.float32(0.7 / 7)
    # codes are round(w / s) + 8: 15, 1, 9, 8, 6, 11, 8, 7
    assert q[0].tolist() == [15 | 1 << 4, 9 | 8 << 4, 6 | 11 << 4, 8 | 7 << 4]
    rng = np.random.default_rng(3)
    w = rng.standard_normal((6, 64)).astype(np.float32)
    for bits, top in ((4, 7), (8, 127)):
        q, s = quantize_rows(w, 32, bits=bits)
        back = dequantize_rows(q, s, 32, bits=bits)
        # symmetric rounding: every weight within half a step of its block's scale
        err = np.abs(back - w).reshape(6, 2, 32).max(axis=-1)
        assert (err <= s / 2 + 1e-6).all()
        assert np.allclose(s, np.abs(w).reshape(6, 2, 32).max(axis=-1) / top)


def test_int4_fitted_scales_never_lose_to_the_max_scale():
    import numpy as np
    from needle.onnx_graphs import dequantize_rows, fit_scales, quantize, quantize_rows
    rng = np.random.default_rng(5)
    w = rng.standard_normal((64, 256)).astype(np.float32)
    w[3, 7] = 9.0   # an outlier: the max scale wastes most of its block's levels on it
    err = lambda q, s: ((dequantize_rows(q, s, 32, bits=4) - w) ** 2).reshape(64, 8, 32).sum(-1)
    e_max = err(*quantize_rows(w, 32, bits=4))
    s = fit_scales(w, 32, 4)
    e_fit = err(*quantize_rows(w, 32, bits=4, scale=s))
    assert (e_fit <= e_max + 1e-9).all()
    assert e_fit.sum() < 0.9 * e_max.sum()
    # the exporter's int4 is the fitted one, its int8 the max scale
    assert np.array_equal(quantize(w, 32, 4)[1], s)
    assert np.array_equal(quantize(w, 32, 8)[1], quantize_rows(w, 32, bits=8)[1])


def test_int4_26m_model_directory_is_half_the_int8_one(tmp_path):
    out = tmp_path / "m"
    assert export_main(["--random", "--shape", "needle-26m", "--quant", "int4", "--out", str(out)]) == 0
    sizes = {f: (out / f).stat().st_size for f in os.listdir(out)}
    # 26.3M parameters as 4 bits + one fp32 scale per 32 weights (~16.4 MB), the embedding stored once, a few
    # fp32 vectors and the retrieval head
    assert 16e6 < sizes["weights.data"] < 19e6, sizes
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["quantization"] == "int4"
    assert cfg["graph"]["bits"] == 4 and cfg["graph"]["block_size"] == 32 and cfg["graph"]["accuracy_level"] == 4
    dec = load(out, "decoder.onnx")
    # the tied embedding: one packed table for the input gather and the output projection
    users = {n.op_type: n for n in dec.graph.node if "embedding_q" in n.input}
    assert sorted(users) == ["GatherBlockQuantized", "MatMulNBits"]
    for n in users.values():
        attrs = {a.name: a.i for a in n.attribute}
        assert attrs["bits"] == 4 and attrs["block_size"] == 32
    table = next(i for i in dec.graph.initializer if i.name == "embedding_q")
    assert list(table.dims) == [8192, 512 // 32, 16]
    def nodes(g):   # with the If branches' (cross.onnx)
        for n in g.node:
            yield n
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    yield from nodes(a.g)
    for g in ("encoder.onnx", "decoder.onnx", "cross.onnx"):
        nbits = [n for n in nodes(load(out, g).graph) if n.op_type == "MatMulNBits"]
        assert nbits and all({a.name: a.i for a in n.attribute}["bits"] == 4 for n in nbits), g
    # --block-size still applies
    assert export_main(["--random", "--shape", "tiny", "--quant", "int4", "--block-size", "64",
                        "--out", str(tmp_path / "b")]) == 0
    assert json.loads((tmp_path / "b" / "config.json").read_text())["graph"]["block_size"] == 64


def test_gqa_encoder_on_request_is_padded_by_the_engine(tmp_path):
    out = tmp_path / "m"
    assert export_main(["--random", "--shape", "tiny", "--quant", "fp32", "--out", str(out), "--enc-attention", "gqa"]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["graph"]["enc_attention"] == "gqa" and cfg["encoder_padding"] == "bucket"
    ops = {n.op_type for n in load(out, "encoder.onnx").graph.node}
    assert "GroupQueryAttention" in ops and "MultiHeadAttention" not in ops


def test_decoder_io_1_is_still_written_on_request(tmp_path):
    out = tmp_path / "m"
    assert export_main(["--random", "--shape", "tiny", "--quant", "int8", "--out", str(out), "--dec-cache", "present"]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["graph"]["io"] == 1 and cfg["graph"]["dec_attention"] == "gqa"
    dec = load(out, "decoder.onnx")
    assert "present_self_k_0" in {o.name for o in dec.graph.output}
    # d_model 64: the 128 block does not divide K, so every int8 matrix of the tiny shape uses 64
    blocks = {a.i for n in dec.graph.node if n.op_type in ("MatMulNBits", "GatherBlockQuantized")
              for a in n.attribute if a.name == "block_size"}
    assert blocks == {64}
    assert next(o.version for o in dec.opset_import if o.domain == "") == 17
    # GroupQueryAttention hands back the whole present cache: it cannot write cache rows
    assert export_main(["--random", "--shape", "tiny", "--quant", "int8", "--out", str(tmp_path / "x"),
                        "--dec-attention", "gqa"]) == 2


def test_decoder_io_2_on_request_and_top_k_checks(tmp_path):
    out = tmp_path / "m"
    assert export_main(["--random", "--shape", "tiny", "--quant", "fp32", "--out", str(out), "--top-k", "0"]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["graph"]["io"] == 2 and "top_k" not in cfg["graph"]
    assert {o.name for o in load(out, "decoder.onnx").graph.output} == {"logits", "new_self_kv"}
    # K above the vocabulary is the whole vocabulary (tiny: 256)
    assert export_main(["--random", "--shape", "tiny", "--quant", "fp32", "--out", str(out), "--top-k", "1000"]) == 0
    assert json.loads((out / "config.json").read_text())["graph"]["top_k"] == 256
    # I/O 1 has no top-K outputs; --dec-cache present without --top-k is I/O 1
    assert export_main(["--random", "--shape", "tiny", "--quant", "fp32", "--out", str(tmp_path / "x"),
                        "--dec-cache", "present", "--top-k", "8"]) == 2
    assert export_main(["--random", "--shape", "tiny", "--quant", "fp32", "--out", str(tmp_path / "x"),
                        "--top-k", "-1"]) == 2


def test_fp32_without_external_data_keeps_weights_inside(tmp_path):
    out = tmp_path / "m"
    assert export_main(["--random", "--shape", "tiny", "--quant", "fp32", "--out", str(out), "--no-external-data"]) == 0
    assert not (out / "weights.data").exists()
    assert "weights" not in json.loads((out / "config.json").read_text())["files"]
    dec = load(out, "decoder.onnx")
    assert not any(n.op_type == "MatMulNBits" for n in dec.graph.node)
    assert all(not i.external_data for i in dec.graph.initializer)


def test_bad_arguments_are_clear_errors(tmp_path, capsys):
    assert export_main(["--random", "--config", "{not json", "--quant", "int8", "--out", str(tmp_path / "x")]) == 2
    assert "--config is not valid JSON" in capsys.readouterr().err
    assert export_main(["--random", "--config", '{"num_heads": 6}', "--quant", "int8", "--out", str(tmp_path / "x")]) == 2
    assert "must be a multiple of num_kv_heads" in capsys.readouterr().err
    assert export_main(["--checkpoint", str(tmp_path / "none.pt"), "--tokenizer", "x", "--quant", "int8",
                        "--out", str(tmp_path / "x")]) == 2
    assert "checkpoint not found" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_training_checkpoint_exports(tmp_path):
    import torch

    from needle.checkpoint import load_torch_checkpoint, save_checkpoint
    from needle.config import SHAPES
    from needle.model import Needle

    m = Needle(SHAPES["tiny"])
    with torch.no_grad():
        m.enc_gate.fill_(0.3)
    ckpt = tmp_path / "step100.pt"
    save_checkpoint(str(ckpt), m, step=100)
    cfg, flat = load_torch_checkpoint(str(ckpt))
    assert cfg == SHAPES["tiny"]
    assert float(flat["encoder/layers/EncoderBlock_0/attn_gate"][0]) == pytest.approx(0.3)
    # also a bare state dict saved from a compiled / DataParallel model
    torch.save({f"module.{k}": v for k, v in m.state_dict().items()}, tmp_path / "bare.pt")
    assert load_torch_checkpoint(str(tmp_path / "bare.pt"))[0].d_model == 64
    fixtures = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "fixtures", "tokenizer")
    # the tiny shape has 256 ids: a 1000-piece tokenizer does not fit it
    assert export_main(["--checkpoint", str(ckpt), "--tokenizer", os.path.join(fixtures, "bpe-1k.model"),
                        "--quant", "fp32", "--out", str(tmp_path / "m")]) == 2
    assert not (tmp_path / "m").exists()
    big = Needle(SHAPES["tiny"].__class__(**{**SHAPES["tiny"].to_dict(), "vocab_size": 1000}))
    save_checkpoint(str(ckpt), big)
    assert export_main(["--checkpoint", str(ckpt), "--tokenizer", os.path.join(fixtures, "bpe-1k.model"),
                        "--quant", "fp32", "--out", str(tmp_path / "m")]) == 0
    assert json.loads((tmp_path / "m" / "config.json").read_text())["architecture"]["vocab_size"] == 1000


def test_cross_kv_graph_is_the_default_and_its_weights_live_in_weights_data(tmp_path):
    out = tmp_path / "m"
    assert export_main(["--random", "--shape", "tiny", "--quant", "int8", "--out", str(out)]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["files"]["cross"] == "cross.onnx" and cfg["graph"]["cross_kv"] == "graph"
    enc, cross = load(out, "encoder.onnx"), load(out, "cross.onnx")
    # the encoder hands over its final hidden states instead of every decoder layer's K/V
    assert {o.name for o in enc.graph.output} == {"encoder_hidden", "embedding"}
    assert [i.name for i in cross.graph.input] == ["encoder_hidden", "layer"]
    assert [o.name for o in cross.graph.output] == ["cross_k", "cross_v"]
    # one layer per run: If nodes on `layer` (tiny: 2 decoder layers -> one If, each branch one layer's matmul)
    ifs = [n for n in cross.graph.node if n.op_type == "If"]
    assert len(ifs) == 1
    branches = [a.g for a in ifs[0].attribute]
    assert all(sum(n.op_type == "MatMulNBits" for n in g.node) == 1 for g in branches)
    # the branches' matrices are external data in the shared file, like the other graphs' initializers
    inits = [t for g in branches for t in g.initializer if t.name.endswith("_q")]
    assert len(inits) == 2 and all({e.key: e.value for e in t.external_data}["location"] == "weights.data"
                                   for t in inits)
    # the older layout is still written on request
    assert export_main(["--random", "--shape", "tiny", "--quant", "int8", "--out", str(tmp_path / "old"),
                        "--cross-kv", "per_layer"]) == 0
    assert not (tmp_path / "old" / "cross.onnx").exists()
    assert "cross" not in json.loads((tmp_path / "old" / "config.json").read_text())["files"]
    assert "cross_k_0" in {o.name for o in load(tmp_path / "old", "encoder.onnx").graph.output}
