"""Needle v1 forward pass in plain numpy, transcribed line by line from needle-v1.md.

Written independently of model.py (different layout: per-head arrays, explicit K/V repeat, explicit loops
over heads) so that a test comparing the two catches a mistake in either. Works directly on a flat
checkpoint tree {"encoder/layers/EncoderBlock_0/...": array}. float64 throughout: it is the oracle.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

ENC = "encoder/layers/EncoderBlock_0"
DEC = "decoder/layers/DecoderBlock_0"


def zc(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    # zc(x, g) = (1 + g) * x / sqrt(mean(x^2, last axis) + 1e-6)
    return (1.0 + g) * x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + 1e-6)


def rope(x: np.ndarray, theta: float) -> np.ndarray:
    # x: [heads, T, hd]; NeoX half-split: pairs (i, i + hd/2) rotated by angle pos * theta^(-2i/hd)
    heads, T, hd = x.shape
    out = np.empty_like(x)
    for pos in range(T):
        for i in range(hd // 2):
            a = pos * theta ** (-2.0 * i / hd)
            c, s = np.cos(a), np.sin(a)
            x1, x2 = x[:, pos, i], x[:, pos, i + hd // 2]
            out[:, pos, i] = x1 * c - x2 * s
            out[:, pos, i + hd // 2] = x2 * c + x1 * s
    return out


class NumpyNeedle:
    def __init__(self, flat: Mapping[str, np.ndarray], *, num_heads: int, num_kv_heads: int,
                 rope_theta: float = 10000.0):
        self.p = {k: np.asarray(v, dtype=np.float64) for k, v in flat.items()}
        self.H, self.KV, self.theta = num_heads, num_kv_heads, rope_theta
        self.hd = self.p[f"{ENC}/self_attn/q_norm/scale"].shape[1]
        self.d = self.p["embedding/embedding"].shape[1]

    def emb(self, ids: np.ndarray) -> np.ndarray:
        return self.p["embedding/embedding"][ids] * np.sqrt(self.d)

    def attn(self, pre: str, i: int, xq: np.ndarray, xkv: np.ndarray, allowed: np.ndarray, use_rope: bool):
        """xq [T,d], xkv [S,d], allowed [T,S] bool."""
        p, H, KV, hd = self.p, self.H, self.KV, self.hd
        T, S = xq.shape[0], xkv.shape[0]
        q = (xq @ p[f"{pre}/q_proj/kernel"][i]).reshape(T, H, hd).transpose(1, 0, 2)    # [8, T, 64]
        k = (xkv @ p[f"{pre}/k_proj/kernel"][i]).reshape(S, KV, hd).transpose(1, 0, 2)  # [4, S, 64]
        v = (xkv @ p[f"{pre}/v_proj/kernel"][i]).reshape(S, KV, hd).transpose(1, 0, 2)  # [4, S, 64]
        q = zc(q, p[f"{pre}/q_norm/scale"][i])
        k = zc(k, p[f"{pre}/k_norm/scale"][i])
        rep = H // KV
        k = np.repeat(k, rep, axis=0)  # kv head j -> q heads j*rep .. j*rep+rep-1
        v = np.repeat(v, rep, axis=0)
        if use_rope:
            q = rope(q, self.theta)
            k = rope(k, self.theta)
        heads = []
        for h in range(H):
            w = q[h] @ k[h].T / np.sqrt(hd)
            w = np.where(allowed, w, -np.inf)
            w = w - w.max(axis=-1, keepdims=True)
            w = np.exp(w)
            w = w / w.sum(axis=-1, keepdims=True)
            heads.append(w @ v[h])
        merged = np.concatenate(heads, axis=-1)  # [T, H*hd], head-major
        return merged @ p[f"{pre}/out_proj/kernel"][i]

    def encode(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """One sequence: ids [S], mask [S] (True = real). Returns enc [S, d]."""
        p = self.p
        mask = np.asarray(mask, dtype=bool)
        x = self.emb(ids)
        allowed = np.broadcast_to(mask[None, :], (len(ids), len(ids)))
        L = p[f"{ENC}/attn_gate"].shape[0]
        for i in range(L):
            h = zc(x, p[f"{ENC}/ZCRMSNorm_0/scale"][i])
            gate = 1.0 / (1.0 + np.exp(-p[f"{ENC}/attn_gate"][i]))
            x = x + gate * self.attn(f"{ENC}/self_attn", i, h, h, allowed, True)
        return zc(x, p["encoder/final_norm/scale"])

    def decode(self, tgt: np.ndarray, enc: np.ndarray, enc_mask: np.ndarray) -> np.ndarray:
        """tgt [T] -> logits [T, V] (causal self-attention, whole prefix)."""
        p = self.p
        T = len(tgt)
        y = self.emb(tgt)
        causal = np.tril(np.ones((T, T), dtype=bool))
        cross = np.broadcast_to(np.asarray(enc_mask, dtype=bool)[None, :], (T, enc.shape[0]))
        L = p[f"{DEC}/self_attn_gate"].shape[0]
        for i in range(L):
            h = zc(y, p[f"{DEC}/ZCRMSNorm_0/scale"][i])
            g = 1.0 / (1.0 + np.exp(-p[f"{DEC}/self_attn_gate"][i]))
            y = y + g * self.attn(f"{DEC}/self_attn", i, h, h, causal, True)
            h = zc(y, p[f"{DEC}/ZCRMSNorm_1/scale"][i])
            g = 1.0 / (1.0 + np.exp(-p[f"{DEC}/cross_attn_gate"][i]))
            y = y + g * self.attn(f"{DEC}/cross_attn", i, h, enc, cross, False)
        return zc(y, p["decoder/ZCRMSNorm_0/scale"]) @ p["embedding/embedding"].T

    def embed_text(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        p = self.p
        mask = np.asarray(mask, dtype=bool)
        enc = self.encode(ids, mask)
        pooled = enc[mask].mean(axis=0)
        h = np.maximum(pooled @ p["contrastive_hidden/kernel"] + p["contrastive_hidden/bias"], 0.0)
        e = h @ p["contrastive_proj/kernel"]
        return e / np.linalg.norm(e)
