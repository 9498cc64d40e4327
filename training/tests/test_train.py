"""The packed data form, the wall-time schedule and train.py end to end on the CPU (real sentencepiece model,
real subprocess, real checkpoint files)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import sentencepiece as spm
import torch

from datagen import negatives, novel
from datagen.generate import Builder
from needle_data import concat_datasets, load_packed, save_packed, tokenize_file
from train import lr_at_time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOKENIZER = os.path.join(ROOT, "tests", "fixtures", "tokenizer", "needle-8k.model")
TINY = {"d_model": 32, "num_heads": 2, "num_kv_heads": 1, "head_dim": 16, "encoder_layers": 1, "decoder_layers": 1}


def _write(path, seed, n):
    b = Builder(seed=seed)
    with open(path, "w") as f:
        for _ in range(n):
            f.write(json.dumps(b.one()) + "\n")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    _write(d / "a.jsonl", 1, 150)
    _write(d / "b.jsonl", 2, 150)
    return d


@pytest.fixture(scope="module")
def sp():
    return spm.SentencePieceProcessor(model_file=TOKENIZER)


def _same(x, y):
    assert len(x) == len(y)
    for f in ("enc", "dec_in", "tgt", "roles"):
        for a, b in zip(getattr(x, f), getattr(y, f)):
            assert a.dtype == b.dtype and np.array_equal(a, b), f
    for a, b in zip(x.rq, y.rq):
        assert (a is None) == (b is None) and (a is None or np.array_equal(a, b))
    # retrieval targets: the same tool text, whatever the numbering
    assert [x.tool_texts[t] if t >= 0 else None for t in x.rt] == [y.tool_texts[t] if t >= 0 else None for t in y.rt]


def test_packed_round_trip_keeps_every_field(data, sp, tmp_path):
    ds = tokenize_file(str(data / "a.jsonl"), sp, TOKENIZER)
    save_packed(ds, str(tmp_path / "a.pack"))
    back = load_packed(str(tmp_path / "a.pack"), sp)
    _same(ds, back)
    assert all(np.array_equal(a, b) for a, b in zip(ds.tool_ids, back.tool_ids))
    assert os.path.getsize(tmp_path / "a.pack") < sum(e.nbytes for e in ds.enc) / 4  # compressed


def test_concat_shares_one_tool_table(data, sp):
    a = tokenize_file(str(data / "a.jsonl"), sp, TOKENIZER)
    b = tokenize_file(str(data / "b.jsonl"), sp, TOKENIZER)
    both = concat_datasets([a, b])
    assert len(both) == len(a) + len(b)
    assert len(set(both.tool_texts)) == len(both.tool_texts) == len(set(a.tool_texts) | set(b.tool_texts))
    _same(a, type(a)(both.enc[:len(a)], both.dec_in[:len(a)], both.tgt[:len(a)], both.roles[:len(a)],
                     both.rq[:len(a)], both.rt[:len(a)], both.tool_ids, both.tool_texts))
    tail = type(b)(both.enc[len(a):], both.dec_in[len(a):], both.tgt[len(a):], both.roles[len(a):],
                   both.rq[len(a):], both.rt[len(a):], both.tool_ids, both.tool_texts)
    _same(b, tail)


def test_pack_refuses_targets_it_could_not_rebuild(data, sp, tmp_path):
    ds = tokenize_file(str(data / "a.jsonl"), sp, TOKENIZER)
    ds.tgt[3] = ds.tgt[3].copy()
    ds.tgt[3][0] += 1
    with pytest.raises(ValueError, match="shifted by one"):
        save_packed(ds, str(tmp_path / "bad.pack"))
    assert not os.path.exists(tmp_path / "bad.pack")


def test_time_schedule_warms_up_holds_then_decays_to_the_floor():
    peak = 1e-3
    assert lr_at_time(0, 0.0, peak, 10, 0.4) == pytest.approx(peak / 10)
    assert lr_at_time(50, 0.3, peak, 10, 0.4) == peak
    assert lr_at_time(50, 0.6, peak, 10, 0.4) == peak
    mid = lr_at_time(50, 0.8, peak, 10, 0.4)
    assert 0.05 * peak < mid < peak and mid == pytest.approx(peak * (0.05 + 0.95 * 0.5))
    assert lr_at_time(50, 1.0, peak, 10, 0.4) == pytest.approx(0.05 * peak)


def test_open_topic_negatives_bring_unseen_words():
    old = novel.rate
    try:
        novel.rate = 0.3
        import random
        rng = random.Random(4)
        topics = [negatives._topic(rng) for _ in range(600)]
    finally:
        novel.rate = old
    unseen = [t for t in topics if t not in negatives._TOPICS]
    assert 0.25 < len(unseen) / len(topics) < 0.45
    b = Builder(seed=5)
    open_topic = [s for s in (b.one() for _ in range(3000)) if s["kind"] == "neg_open_topic"]
    assert open_topic and all(s["answer"] == [] for s in open_topic)


def _train(args, cwd):
    return subprocess.run([sys.executable, os.path.join(ROOT, "training", "train.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_train_on_packed_data_with_workers_writes_half_weights_and_continues_from_them(data, sp, tmp_path):
    save_packed(tokenize_file(str(data / "a.jsonl"), sp, TOKENIZER), str(tmp_path / "a.pack"))
    save_packed(tokenize_file(str(data / "b.jsonl"), sp, TOKENIZER), str(tmp_path / "b.pack"))
    common = ["--data", f"{tmp_path / 'a.pack'},{tmp_path / 'b.pack'}", "--val", str(tmp_path / "b.pack"),
              "--tokenizer", TOKENIZER, "--workers", "1", "--time-schedule", "--hours", str(4 / 3600),
              "--max-tokens", "2000", "--log-every", "1", "--val-every", "1000"]
    r = _train([*common, "--run", str(tmp_path / "r1"), "--shape", json.dumps(TINY), "--half-out",
                str(tmp_path / "half.pt")], ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "train 300 samples" in r.stdout and "wall-time budget spent" in r.stdout
    half = torch.load(tmp_path / "half.pt", map_location="cpu")
    full = torch.load(tmp_path / "r1" / "ema.pt", map_location="cpu")
    assert half["step"] == full["step"] > 0
    for k, v in full["model"].items():
        assert half["model"][k].dtype == torch.float16
        assert torch.allclose(half["model"][k].float(), v, atol=1e-2, rtol=1e-2)
    r2 = _train([*common, "--run", str(tmp_path / "r2"), "--init", str(tmp_path / "half.pt")], ROOT)
    assert r2.returncode == 0, r2.stdout + r2.stderr
    assert f"weights from {tmp_path / 'half.pt'} (step {half['step']})" in r2.stdout
    assert '"d_model": 32' in r2.stdout
