"""The PyTorch reference against the independent numpy transcription of needle-v1.md, plus tree handling."""
import numpy as np
import pytest
import torch

from needle.config import SHAPES, NeedleConfig
from needle.model import Needle
from needle.numpy_ref import NumpyNeedle
from needle.random_weights import random_flat, random_tree
from needle.tree import CheckpointError, flatten, infer_config

TINY = SHAPES["tiny"]


def _model(cfg=TINY, seed=0):
    m = Needle(cfg)
    m.load_checkpoint_tree(random_tree(cfg, seed))
    return m.eval()


def test_released_shape_has_the_published_parameter_count():
    m = Needle(NeedleConfig())
    assert sum(p.numel() for p in m.parameters()) == 26_315_421


def test_fresh_init_gates_and_norms_are_zero():
    m = Needle(TINY)
    assert torch.all(m.enc_gate == 0) and torch.all(m.dec_self_gate == 0) and torch.all(m.dec_cross_gate == 0)
    assert torch.all(m.enc_norm == 0) and torch.all(m.dec_cross_q_norm == 0)
    assert 0.015 < m.enc_q_proj.std().item() < 0.025
    assert abs(m.embedding.std().item() - TINY.d_model ** -0.5) < 0.2 * TINY.d_model ** -0.5


@pytest.mark.parametrize("cfg", [TINY, NeedleConfig(d_model=48, num_heads=6, num_kv_heads=2, head_dim=8,
                                                    encoder_layers=1, decoder_layers=2, vocab_size=100,
                                                    retrieval_hidden=8, retrieval_dim=4, rope_theta=500.0)])
def test_torch_matches_numpy_transcription(cfg):
    flat = random_flat(cfg, seed=1)
    m = Needle(cfg)
    m.load_checkpoint_tree(flat)
    ref = NumpyNeedle(flat, num_heads=cfg.num_heads, num_kv_heads=cfg.num_kv_heads, rope_theta=cfg.rope_theta)
    rng = np.random.default_rng(2)
    S, T = 13, 7
    src = rng.integers(6, cfg.vocab_size, (2, S))
    mask = np.ones((2, S), dtype=bool)
    mask[1, 9:] = False  # second sequence right-padded
    src[1, 9:] = 0
    tgt = rng.integers(6, cfg.vocab_size, (2, T))
    with torch.no_grad():
        logits = m(torch.tensor(src), torch.tensor(mask), torch.tensor(tgt)).numpy()
        enc = m.encode(torch.tensor(src), torch.tensor(mask)).numpy()
        emb = m.embed_text(torch.tensor(src), torch.tensor(mask)).numpy()
    for b in range(2):
        e_ref = ref.encode(src[b], mask[b])
        np.testing.assert_allclose(enc[b][mask[b]], e_ref[mask[b]], atol=2e-4, rtol=1e-4)
        l_ref = ref.decode(tgt[b], e_ref, mask[b])
        np.testing.assert_allclose(logits[b], l_ref, atol=2e-4, rtol=1e-4)
        np.testing.assert_allclose(emb[b], ref.embed_text(src[b], mask[b]), atol=1e-5)
    assert np.allclose(np.linalg.norm(emb, axis=-1), 1.0, atol=1e-5)


def test_padding_does_not_change_real_positions():
    m = _model()
    src = torch.tensor([[7, 8, 9, 10, 11]])
    tgt = torch.tensor([[1, 4, 20, 30]])
    with torch.no_grad():
        a = m(src, torch.ones_like(src, dtype=torch.bool), tgt)
        padded = torch.tensor([[7, 8, 9, 10, 11, 0, 0, 0]])
        pmask = padded != 0
        b = m(padded, pmask, tgt)
        ea = m.embed_text(src, torch.ones_like(src, dtype=torch.bool))
        eb = m.embed_text(padded, pmask)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ea, eb, atol=1e-6, rtol=1e-5)


def test_decoder_is_causal():
    m = _model()
    src = torch.tensor([[7, 8, 9]])
    mask = torch.ones_like(src, dtype=torch.bool)
    with torch.no_grad():
        enc = m.encode(src, mask)
        full = m.decode(torch.tensor([[1, 4, 20, 30, 40]]), enc, mask)
        prefix = m.decode(torch.tensor([[1, 4, 20]]), enc, mask)
    torch.testing.assert_close(full[:, :3], prefix, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(full[:, 3], full[:, 2])


def test_checkpoint_tree_round_trip_and_float16_leaves():
    m = _model(seed=3)
    tree = m.to_checkpoint_tree()
    assert tree["encoder"]["layers"]["EncoderBlock_0"]["self_attn"]["q_proj"]["kernel"].shape == (2, 64, 64)
    m2 = Needle(TINY)
    m2.load_checkpoint_tree(tree)
    for (n, a), (_, b) in zip(m.named_parameters(), m2.named_parameters()):
        assert torch.equal(a, b), n
    half = {k: v.astype(np.float16) for k, v in flatten(tree).items()}
    m3 = Needle.from_checkpoint_tree(half, {"rope_theta": 10000})
    assert m3.config == TINY.__class__(**{**TINY.to_dict(), "max_encoder_len": 1024, "max_decoder_len": 512})


def test_bad_trees_name_the_key():
    flat = random_flat(TINY)
    bad = dict(flat)
    del bad["decoder/layers/DecoderBlock_0/cross_attn/k_norm/scale"]
    with pytest.raises(CheckpointError, match="missing key 'decoder/layers/DecoderBlock_0/cross_attn/k_norm/scale'"):
        Needle(TINY).load_checkpoint_tree(bad)
    bad = dict(flat)
    bad["encoder/final_norm/scale"] = np.zeros(63, np.float32)
    with pytest.raises(CheckpointError, match=r"'encoder/final_norm/scale' has shape \(63,\), expected \(64,\)"):
        Needle(TINY).load_checkpoint_tree(bad)
    bad = dict(flat)
    bad["log_temp"] = np.array(np.nan, np.float32)
    with pytest.raises(CheckpointError, match="'log_temp' contains NaN"):
        Needle(TINY).load_checkpoint_tree(bad)
    with pytest.raises(CheckpointError, match="vocab_size=8192 but the weights have vocab_size=256"):
        infer_config(flat, {"vocab_size": 8192})


def test_training_step_reduces_loss():
    torch.manual_seed(0)
    m = Needle(TINY)
    opt = torch.optim.AdamW(m.parameters(), lr=3e-3)
    src = torch.randint(6, 256, (4, 10))
    mask = torch.ones_like(src, dtype=torch.bool)
    tgt = torch.randint(6, 256, (4, 8))
    losses = []
    for _ in range(20):
        logits = m(src, mask, tgt[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 256), tgt[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.7
    no_grad = [n for n, p in m.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    assert sorted(no_grad) == ["contrastive_hidden_bias", "contrastive_hidden_kernel", "contrastive_proj_kernel",
                               "log_temp"]
