"""The Needle v1 checkpoint tree (needle-v1.md): expected paths and shapes, flatten/unflatten, validation.

A tree is a nested dict of numpy arrays, e.g. tree["encoder"]["layers"]["EncoderBlock_0"]["self_attn"]["q_proj"]
["kernel"] has shape (encoder_layers, d_model, num_heads*head_dim). Flat form: {"encoder/layers/.../kernel": arr}.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .config import NeedleConfig

ENC = "encoder/layers/EncoderBlock_0"
DEC = "decoder/layers/DecoderBlock_0"


class CheckpointError(ValueError):
    """A checkpoint tree that does not fit the architecture (missing key, wrong shape, bad value)."""


def _attn_shapes(prefix: str, L: int, c: NeedleConfig) -> dict[str, tuple[int, ...]]:
    qd, kvd = c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim
    return {
        f"{prefix}/q_proj/kernel": (L, c.d_model, qd),
        f"{prefix}/k_proj/kernel": (L, c.d_model, kvd),
        f"{prefix}/v_proj/kernel": (L, c.d_model, kvd),
        f"{prefix}/out_proj/kernel": (L, qd, c.d_model),
        f"{prefix}/q_norm/scale": (L, c.head_dim),
        f"{prefix}/k_norm/scale": (L, c.head_dim),
    }


def expected_shapes(c: NeedleConfig) -> dict[str, tuple[int, ...]]:
    """Every leaf path of the checkpoint tree and its shape for config `c`."""
    E, D = c.encoder_layers, c.decoder_layers
    s: dict[str, tuple[int, ...]] = {
        "embedding/embedding": (c.vocab_size, c.d_model),
        "log_temp": (),
        "contrastive_hidden/kernel": (c.d_model, c.retrieval_hidden),
        "contrastive_hidden/bias": (c.retrieval_hidden,),
        "contrastive_proj/kernel": (c.retrieval_hidden, c.retrieval_dim),
        "encoder/final_norm/scale": (c.d_model,),
        f"{ENC}/ZCRMSNorm_0/scale": (E, c.d_model),
        f"{ENC}/attn_gate": (E,),
        "decoder/ZCRMSNorm_0/scale": (c.d_model,),
        f"{DEC}/ZCRMSNorm_0/scale": (D, c.d_model),
        f"{DEC}/ZCRMSNorm_1/scale": (D, c.d_model),
        f"{DEC}/self_attn_gate": (D,),
        f"{DEC}/cross_attn_gate": (D,),
    }
    s.update(_attn_shapes(f"{ENC}/self_attn", E, c))
    s.update(_attn_shapes(f"{DEC}/self_attn", D, c))
    s.update(_attn_shapes(f"{DEC}/cross_attn", D, c))
    return s


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in tree.items():
        if not isinstance(k, str):
            raise CheckpointError(f"checkpoint tree key {k!r} under '{prefix or '/'}' is not a string")
        path = f"{prefix}/{k}" if prefix else k
        if isinstance(v, Mapping):
            out.update(flatten(v, path))
        else:
            out[path] = v
    return out


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path, v in flat.items():
        node = tree
        parts = path.split("/")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = v
    return tree


def validate(flat: Mapping[str, Any], c: NeedleConfig, *, allow_extra: bool = False) -> dict[str, np.ndarray]:
    """Check every expected leaf is present with the right shape and finite values; return float32 copies.

    Raises CheckpointError naming the first offending path."""
    want = expected_shapes(c)
    missing = [p for p in want if p not in flat]
    if missing:
        raise CheckpointError(
            f"checkpoint is missing key '{missing[0]}'" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    extra = sorted(set(flat) - set(want))
    if extra and not allow_extra:
        raise CheckpointError(
            f"checkpoint has unexpected key '{extra[0]}'" + (f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""))
    out: dict[str, np.ndarray] = {}
    for p, shape in want.items():
        try:
            a = np.asarray(flat[p])
        except Exception as e:  # pragma: no cover - exotic leaf types
            raise CheckpointError(f"checkpoint key '{p}' is not an array: {e}") from None
        if a.dtype.kind not in "fiu":
            raise CheckpointError(f"checkpoint key '{p}' has dtype {a.dtype}, expected a float array")
        if tuple(a.shape) != shape:
            raise CheckpointError(f"checkpoint key '{p}' has shape {tuple(a.shape)}, expected {shape}")
        a = a.astype(np.float32)
        if not np.all(np.isfinite(a)):
            raise CheckpointError(f"checkpoint key '{p}' contains NaN or Inf")
        out[p] = a
    return out


# Config keys a training run may have written, mapped onto NeedleConfig names.
_CONFIG_ALIASES = {
    "num_encoder_layers": "encoder_layers", "num_decoder_layers": "decoder_layers",
    "n_encoder_layers": "encoder_layers", "n_decoder_layers": "decoder_layers",
    "vocab": "vocab_size", "n_heads": "num_heads", "n_kv_heads": "num_kv_heads",
    "hidden_size": "d_model", "contrastive_dim": "retrieval_dim", "contrastive_hidden": "retrieval_hidden",
    "pad_token_id": "pad_id", "eos_token_id": "eos_id", "bos_token_id": "bos_id",
    "max_seq_len": "max_encoder_len", "max_gen_len": "max_decoder_len",
}


def infer_config(flat: Mapping[str, Any], given: Mapping[str, Any] | None = None) -> NeedleConfig:
    """Derive the architecture from the tree's shapes, then cross-check the checkpoint's (partial) config.

    Shapes decide sizes; the config supplies what shapes cannot (rope_theta, special ids, max lengths).
    A config value that contradicts the shapes is an error. Unknown config keys (training-only settings such
    as learning rates) are ignored."""
    given = dict(given or {})

    def shape(p: str) -> tuple[int, ...]:
        if p not in flat:
            raise CheckpointError(f"checkpoint is missing key '{p}'")
        return tuple(np.shape(flat[p]))

    emb = shape("embedding/embedding")
    if len(emb) != 2:
        raise CheckpointError(f"checkpoint key 'embedding/embedding' has shape {emb}, expected (vocab, d_model)")
    qn = shape(f"{ENC}/self_attn/q_norm/scale")
    q = shape(f"{ENC}/self_attn/q_proj/kernel")
    k = shape(f"{ENC}/self_attn/k_proj/kernel")
    dec_gate = shape(f"{DEC}/self_attn_gate")
    hid = shape("contrastive_hidden/kernel")
    proj = shape("contrastive_proj/kernel")
    for p, s, n in [(f"{ENC}/self_attn/q_norm/scale", qn, 2), (f"{ENC}/self_attn/q_proj/kernel", q, 3),
                    (f"{ENC}/self_attn/k_proj/kernel", k, 3), (f"{DEC}/self_attn_gate", dec_gate, 1),
                    ("contrastive_hidden/kernel", hid, 2), ("contrastive_proj/kernel", proj, 2)]:
        if len(s) != n:
            raise CheckpointError(f"checkpoint key '{p}' has shape {s}, expected {n} dimensions")
    head_dim = qn[1]
    if q[2] % head_dim or k[2] % head_dim:
        raise CheckpointError(
            f"q_proj/k_proj widths {q[2]}/{k[2]} are not multiples of head_dim {head_dim} (from q_norm)")
    inferred: dict[str, Any] = dict(
        vocab_size=emb[0], d_model=emb[1], head_dim=head_dim, num_heads=q[2] // head_dim,
        num_kv_heads=k[2] // head_dim, encoder_layers=q[0], decoder_layers=dec_gate[0],
        retrieval_hidden=hid[1], retrieval_dim=proj[1])
    rest: dict[str, Any] = {}
    for key, v in given.items():
        name = _CONFIG_ALIASES.get(key, key)
        if name in inferred:
            if int(v) != inferred[name]:
                raise CheckpointError(
                    f"checkpoint config says {key}={v} but the weights have {name}={inferred[name]}")
        elif name in NeedleConfig.__dataclass_fields__:
            rest[name] = float(v) if name == "rope_theta" else int(v)
    try:
        return NeedleConfig(**inferred, **rest)
    except ValueError as e:
        raise CheckpointError(f"checkpoint config is invalid: {e}") from None
