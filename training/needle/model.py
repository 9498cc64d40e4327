"""Needle v1 PyTorch reference: exactly the forward pass of /work/shared/needle-v1.md, any size.

API (import with `training/` on sys.path):

    from needle.model import Needle, NeedleConfig
    cfg = NeedleConfig()                         # released 26M shape; NeedleConfig(d_model=..., ...) for others
    m = Needle(cfg)                              # fresh init: gates 0, norm scales 0, projections N(0, 0.02)
    enc = m.encode(src_ids, src_mask)            # [B,S] long, [B,S] bool (True = real token) -> [B,S,d]
    logits = m.decode(tgt_ids, enc, src_mask)    # [B,T] long -> [B,T,V]; causal, the whole prefix (reference way)
    logits = m(src_ids, src_mask, tgt_ids)       # encode + decode
    e = m.embed_text(ids, mask)                  # retrieval head -> [B, retrieval_dim], L2-normalised
    m.log_temp                                   # scalar parameter; contrastive temperature = exp(log_temp)
    tree = m.to_checkpoint_tree()                # nested dict of numpy float32, the needle.pkl tree
    m.load_checkpoint_tree(tree)                 # nested or flat ("a/b/c") dict; raises CheckpointError
    m2 = Needle.from_checkpoint_tree(tree, config_dict)   # architecture inferred from shapes (+ partial config)
    from needle.checkpoint import save_checkpoint             # training checkpoints training/export.py reads:
    save_checkpoint("last.pt", m, step=..., optimizer=...)  # {"config", "model": state_dict, **extra}, atomic

Parameters are stored stacked over layers, like the checkpoint: e.g. `enc_q_proj` is
[encoder_layers, d_model, num_heads*head_dim], kernels are [in, out] (y = x @ W). `PARAM_PATHS` maps each
attribute to its checkpoint path. Attention projections (for Muon) are the parameters whose name ends in
`_proj` (3-D stacks of 2-D matrices; `projection_parameters()` lists them); everything else is AdamW material.
All maths is fp32. Masks: `src_mask` True/1 = real token; padded keys are excluded from attention; the decoder
is causal only (targets are right-padded, so pad positions never influence real ones).
GQA: kv head j serves query heads j*G .. j*G+G-1 (G = num_heads / num_kv_heads; 2j, 2j+1 for the 26M shape);
implemented by grouping the query heads, never by copying K/V.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import SHAPES, NeedleConfig
from .tree import DEC, ENC, CheckpointError, flatten, infer_config, unflatten, validate

__all__ = ["Needle", "NeedleConfig", "SHAPES", "CheckpointError", "PARAM_PATHS", "zc_norm", "rope_tables"]

NEG_INF = -1e9  # additive mask value: exp(-1e9 - max) is exactly 0 in fp32, and no NaN for all-masked rows


def _attn_paths(attr: str, path: str) -> dict[str, str]:
    return {f"{attr}_q_proj": f"{path}/q_proj/kernel", f"{attr}_k_proj": f"{path}/k_proj/kernel",
            f"{attr}_v_proj": f"{path}/v_proj/kernel", f"{attr}_out_proj": f"{path}/out_proj/kernel",
            f"{attr}_q_norm": f"{path}/q_norm/scale", f"{attr}_k_norm": f"{path}/k_norm/scale"}


#: attribute name -> checkpoint path
PARAM_PATHS: dict[str, str] = {
    "embedding": "embedding/embedding",
    "log_temp": "log_temp",
    "contrastive_hidden_kernel": "contrastive_hidden/kernel",
    "contrastive_hidden_bias": "contrastive_hidden/bias",
    "contrastive_proj_kernel": "contrastive_proj/kernel",
    "enc_final_norm": "encoder/final_norm/scale",
    "enc_norm": f"{ENC}/ZCRMSNorm_0/scale",
    "enc_gate": f"{ENC}/attn_gate",
    **_attn_paths("enc", f"{ENC}/self_attn"),
    "dec_final_norm": "decoder/ZCRMSNorm_0/scale",
    "dec_norm0": f"{DEC}/ZCRMSNorm_0/scale",
    "dec_norm1": f"{DEC}/ZCRMSNorm_1/scale",
    "dec_self_gate": f"{DEC}/self_attn_gate",
    "dec_cross_gate": f"{DEC}/cross_attn_gate",
    **_attn_paths("dec_self", f"{DEC}/self_attn"),
    **_attn_paths("dec_cross", f"{DEC}/cross_attn"),
}


def zc_norm(x: torch.Tensor, g: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """ZCRMSNorm: (1 + g) * x / sqrt(mean(x^2) + eps) over the last axis, in fp32."""
    x = x.float()
    return (1.0 + g) * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope_tables(n: int, head_dim: int, theta: float, device: torch.device | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin [n, head_dim/2] for positions 0..n-1 (NeoX half-split rotation)."""
    half = head_dim // 2
    inv = 1.0 / (theta ** (torch.arange(half, dtype=torch.float64, device=device) * 2.0 / head_dim))
    ang = torch.arange(n, dtype=torch.float64, device=device)[:, None] * inv[None, :]
    return torch.cos(ang).float(), torch.sin(ang).float()


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    # x [..., T, heads, hd]; cos/sin [T, hd/2]
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    c, s = cos[:, None, :], sin[:, None, :]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


class Needle(nn.Module):
    def __init__(self, config: NeedleConfig | None = None):
        super().__init__()
        c = self.config = config or NeedleConfig()
        E, D, d = c.encoder_layers, c.decoder_layers, c.d_model
        qd, kvd = c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim

        def P(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.zeros(shape))

        self.embedding = P(c.vocab_size, d)
        self.log_temp = P()
        self.contrastive_hidden_kernel = P(d, c.retrieval_hidden)
        self.contrastive_hidden_bias = P(c.retrieval_hidden)
        self.contrastive_proj_kernel = P(c.retrieval_hidden, c.retrieval_dim)
        self.enc_final_norm, self.enc_norm, self.enc_gate = P(d), P(E, d), P(E)
        self.dec_final_norm, self.dec_norm0, self.dec_norm1 = P(d), P(D, d), P(D, d)
        self.dec_self_gate, self.dec_cross_gate = P(D), P(D)
        for attr, L in (("enc", E), ("dec_self", D), ("dec_cross", D)):
            setattr(self, f"{attr}_q_proj", P(L, d, qd))
            setattr(self, f"{attr}_k_proj", P(L, d, kvd))
            setattr(self, f"{attr}_v_proj", P(L, d, kvd))
            setattr(self, f"{attr}_out_proj", P(L, qd, d))
            setattr(self, f"{attr}_q_norm", P(L, c.head_dim))
            setattr(self, f"{attr}_k_norm", P(L, c.head_dim))
        self._rope_cache: dict[tuple[int, str], tuple[torch.Tensor, torch.Tensor]] = {}
        self.reset_parameters()

    # ---- init -------------------------------------------------------------------------------------------
    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Fresh init: projections and retrieval kernels N(0, 0.02); embedding N(0, 1/sqrt(d)) so that
        emb = E[t]*sqrt(d) has unit scale; norm scales, gates and biases 0 (sigmoid(0) = 0.5, (1+0) = 1);
        log_temp = log(0.07) (CLIP's initial temperature)."""
        for name, p in self.named_parameters():
            if name.endswith("_proj") or name.endswith("_kernel"):
                nn.init.normal_(p, 0.0, 0.02)
            else:
                nn.init.zeros_(p)
        nn.init.normal_(self.embedding, 0.0, self.config.d_model ** -0.5)
        self.log_temp.fill_(math.log(0.07))

    def projection_parameters(self) -> list[nn.Parameter]:
        """Attention projection stacks [L, in, out] (the Muon group of the published recipe)."""
        return [p for n, p in self.named_parameters() if n.endswith("_proj")]

    # ---- pieces -----------------------------------------------------------------------------------------
    def _rope(self, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        key = (n, str(device))
        t = self._rope_cache.get(key)
        if t is None:
            t = self._rope_cache[key] = rope_tables(n, self.config.head_dim, self.config.rope_theta, device)
        return t

    def _attn(self, attr: str, i: int, xq: torch.Tensor, xkv: torch.Tensor, bias: torch.Tensor,
              rope: bool) -> torch.Tensor:
        """xq [B,T,d], xkv [B,S,d], bias additive, broadcastable to [B,T,S]."""
        c = self.config
        B, T, _ = xq.shape
        S = xkv.shape[1]
        H, KV, G, hd = c.num_heads, c.num_kv_heads, c.group, c.head_dim
        q = (xq @ getattr(self, f"{attr}_q_proj")[i]).view(B, T, H, hd)
        k = (xkv @ getattr(self, f"{attr}_k_proj")[i]).view(B, S, KV, hd)
        v = (xkv @ getattr(self, f"{attr}_v_proj")[i]).view(B, S, KV, hd)
        q = zc_norm(q, getattr(self, f"{attr}_q_norm")[i])
        k = zc_norm(k, getattr(self, f"{attr}_k_norm")[i])
        if rope:
            cos, sin = self._rope(max(T, S), xq.device)
            q = _rotate(q, cos[:T], sin[:T])
            k = _rotate(k, cos[:S], sin[:S])
        # group query heads by their kv head: [B,KV,G*T,hd]
        q = q.view(B, T, KV, G, hd).permute(0, 2, 3, 1, 4).reshape(B, KV, G * T, hd)
        k = k.permute(0, 2, 3, 1)  # [B,KV,hd,S]
        v = v.permute(0, 2, 1, 3)  # [B,KV,S,hd]
        s = (q * (1.0 / math.sqrt(hd))) @ k  # [B,KV,G*T,S]
        s = s.view(B, KV, G, T, S) + bias.view(bias.shape[0], 1, 1, bias.shape[-2], S)
        w = torch.softmax(s, dim=-1).view(B, KV, G * T, S)
        o = (w @ v).view(B, KV, G, T, hd).permute(0, 3, 1, 2, 4).reshape(B, T, H * hd)
        return o @ getattr(self, f"{attr}_out_proj")[i]

    def _embed(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(ids, self.embedding) * math.sqrt(self.config.d_model)

    @staticmethod
    def _pad_bias(mask: torch.Tensor) -> torch.Tensor:
        """[B,S] bool -> additive [B,1,S]."""
        return torch.where(mask.bool(), 0.0, NEG_INF)[:, None, :].float()

    # ---- public -----------------------------------------------------------------------------------------
    def encode(self, src_ids: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        c = self.config
        x = self._embed(src_ids)
        bias = self._pad_bias(src_mask)
        for i in range(c.encoder_layers):
            h = zc_norm(x, self.enc_norm[i])
            x = x + torch.sigmoid(self.enc_gate[i]) * self._attn("enc", i, h, h, bias, rope=True)
        return zc_norm(x, self.enc_final_norm)

    def decode(self, tgt_ids: torch.Tensor, enc: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        c = self.config
        T = tgt_ids.shape[1]
        y = self._embed(tgt_ids)
        causal = torch.full((T, T), NEG_INF, device=y.device).triu(1)[None]
        cross = self._pad_bias(src_mask)
        for i in range(c.decoder_layers):
            h = zc_norm(y, self.dec_norm0[i])
            y = y + torch.sigmoid(self.dec_self_gate[i]) * self._attn("dec_self", i, h, h, causal, rope=True)
            h = zc_norm(y, self.dec_norm1[i])
            y = y + torch.sigmoid(self.dec_cross_gate[i]) * self._attn("dec_cross", i, h, enc, cross, rope=False)
        return zc_norm(y, self.dec_final_norm) @ self.embedding.t()

    def forward(self, src_ids: torch.Tensor, src_mask: torch.Tensor, tgt_ids: torch.Tensor) -> torch.Tensor:
        return self.decode(tgt_ids, self.encode(src_ids, src_mask), src_mask)

    def embed_text(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        enc = self.encode(ids, mask)
        m = mask.float()[..., None]
        pooled = (enc * m).sum(1) / m.sum(1).clamp_min(1.0)
        h = torch.relu(pooled @ self.contrastive_hidden_kernel + self.contrastive_hidden_bias)
        return F.normalize(h @ self.contrastive_proj_kernel, dim=-1, eps=1e-12)

    # ---- checkpoint tree --------------------------------------------------------------------------------
    def to_checkpoint_tree(self, dtype: Any = np.float32) -> dict[str, Any]:
        flat = {path: getattr(self, attr).detach().cpu().numpy().astype(dtype) for attr, path in PARAM_PATHS.items()}
        return unflatten(flat)

    @torch.no_grad()
    def load_checkpoint_tree(self, params: Mapping[str, Any], *, allow_extra: bool = False) -> None:
        """Load a nested (or flat "a/b/c") dict of numpy arrays; raises CheckpointError naming a bad key."""
        flat = flatten(params)  # a flat dict passes through unchanged
        arrays = validate(flat, self.config, allow_extra=allow_extra)
        for attr, path in PARAM_PATHS.items():
            getattr(self, attr).copy_(torch.from_numpy(arrays[path]))

    @classmethod
    def from_checkpoint_tree(cls, params: Mapping[str, Any], config: Mapping[str, Any] | None = None,
                             *, allow_extra: bool = False) -> "Needle":
        flat = flatten(params)
        m = cls(infer_config(flat, config))
        m.load_checkpoint_tree(flat, allow_extra=allow_extra)
        return m
