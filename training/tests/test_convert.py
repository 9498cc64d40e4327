"""convert_checkpoint.py on checkpoints this test writes itself (the official needle.pkl's tree and format:
float16 numpy leaves, a partial config). The ONNX side is checked in tests/converter.test.ts (onnxruntime-node)."""
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from needle.config import NeedleConfig
from needle.model import Needle
from needle.numpy_ref import NumpyNeedle
from needle.random_weights import random_tree
from needle.tree import flatten

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
ROOT = os.path.dirname(TRAINING)
TOKENIZER = os.path.join(ROOT, "tests", "fixtures", "tokenizer", "bpe-1k.model")  # 1000 pieces, Needle's specials
SMALL = NeedleConfig(d_model=64, num_heads=4, num_kv_heads=2, head_dim=16, encoder_layers=2, decoder_layers=2,
                     vocab_size=1000, retrieval_hidden=32, retrieval_dim=16, rope_theta=10000.0)


def write_checkpoint(path, tree, config):
    with open(path, "wb") as f:
        pickle.dump({"params": tree, "config": config}, f)


def f16_tree(seed=0):
    def conv(node):
        return {k: conv(v) for k, v in node.items()} if isinstance(node, dict) else np.asarray(node, np.float16)
    return conv(random_tree(SMALL, seed))


def run_convert(*args):
    return subprocess.run([sys.executable, os.path.join(TRAINING, "convert_checkpoint.py"), *args],
                          capture_output=True, text=True)


def test_reference_loaded_from_the_checkpoint_matches_the_numpy_transcription(tmp_path):
    tree = f16_tree(1)
    ckpt = tmp_path / "needle.pkl"
    write_checkpoint(ckpt, tree, {"d_model": 64, "num_heads": 4})  # partial: the rest are defaults / from shapes
    from needle.checkpoint import load_pickle_checkpoint
    cfg, flat = load_pickle_checkpoint(str(ckpt))
    assert cfg == NeedleConfig(**{**SMALL.to_dict(), "max_encoder_len": 1024, "max_decoder_len": 512})
    m = Needle(cfg)
    m.load_checkpoint_tree(flat)
    ref = NumpyNeedle({k: v.astype(np.float32) for k, v in flatten(tree).items()},
                      num_heads=4, num_kv_heads=2, rope_theta=10000.0)
    src = np.array([10, 500, 999, 7, 42, 3])
    tgt = np.array([1, 4, 80, 81, 82])
    with torch.no_grad():
        logits = m(torch.from_numpy(src[None]), torch.ones(1, 6, dtype=torch.bool), torch.from_numpy(tgt[None]))[0].numpy()
    enc = ref.encode(src, np.ones(6, bool))
    np.testing.assert_allclose(logits, ref.decode(tgt, enc, np.ones(6, bool)), atol=2e-4, rtol=1e-4)


def test_convert_writes_a_model_directory(tmp_path):
    ckpt = tmp_path / "needle.pkl"
    write_checkpoint(ckpt, f16_tree(2), {})
    r = run_convert("--checkpoint", str(ckpt), "--tokenizer", TOKENIZER, "--out", str(tmp_path / "m"),
                    "--quant", "fp32")
    assert r.returncode == 0, r.stderr
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["format"] == "needled-model/1" and cfg["quantization"] == "fp32"
    assert cfg["architecture"]["vocab_size"] == 1000 and cfg["architecture"]["encoder_layers"] == 2
    assert cfg["special_ids"] == {"pad": 0, "eos": 1, "bos": 2, "unk": 3, "tool_call": 4, "tools": 5}
    for f in ("encoder.onnx", "decoder.onnx", "tokenizer.model"):
        assert (tmp_path / "m" / f).stat().st_size > 0


@pytest.mark.parametrize("damage, message", [
    (lambda t: t["decoder"]["layers"]["DecoderBlock_0"]["cross_attn"].pop("v_proj"),
     "missing key 'decoder/layers/DecoderBlock_0/cross_attn/v_proj/kernel'"),
    (lambda t: t["encoder"]["layers"]["EncoderBlock_0"]["self_attn"]["out_proj"].update(
        kernel=np.zeros((2, 64, 63), np.float16)),
     "'encoder/layers/EncoderBlock_0/self_attn/out_proj/kernel' has shape (2, 64, 63), expected (2, 64, 64)"),
    (lambda t: t.pop("embedding"), "missing key 'embedding/embedding'"),
    (lambda t: t["encoder"]["final_norm"].update(scale=np.full(64, np.inf, np.float16)),
     "'encoder/final_norm/scale' contains NaN or Inf"),
])
def test_broken_checkpoints_are_named_errors(tmp_path, damage, message):
    tree = f16_tree(3)
    damage(tree)
    ckpt = tmp_path / "needle.pkl"
    write_checkpoint(ckpt, tree, {})
    r = run_convert("--checkpoint", str(ckpt), "--tokenizer", TOKENIZER, "--out", str(tmp_path / "m"))
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "m").exists()


def test_config_that_contradicts_the_weights_or_a_wrong_tokenizer_is_refused(tmp_path):
    ckpt = tmp_path / "needle.pkl"
    write_checkpoint(ckpt, f16_tree(4), {"vocab_size": 8192})
    r = run_convert("--checkpoint", str(ckpt), "--tokenizer", TOKENIZER, "--out", str(tmp_path / "m"))
    assert r.returncode == 2 and "vocab_size=8192 but the weights have vocab_size=1000" in r.stderr
    write_checkpoint(ckpt, f16_tree(4), {})
    other = os.path.join(ROOT, "tests", "fixtures", "tokenizer", "needle-8k.model")
    r = run_convert("--checkpoint", str(ckpt), "--tokenizer", other, "--out", str(tmp_path / "m"))
    assert r.returncode == 2 and "has 8192 pieces but the checkpoint's vocabulary is 1000" in r.stderr
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    r = run_convert("--checkpoint", str(tmp_path / "junk.pkl"), "--tokenizer", TOKENIZER, "--out", str(tmp_path / "m"))
    assert r.returncode == 2 and "is not a readable pickle" in r.stderr
