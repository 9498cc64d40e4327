"""NeedleConfig: the architecture hyper-parameters (defaults = the released 26M Needle v1)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any, Mapping


@dataclass(frozen=True)
class NeedleConfig:
    d_model: int = 512
    num_heads: int = 8
    num_kv_heads: int = 4
    head_dim: int = 64
    encoder_layers: int = 12
    decoder_layers: int = 8
    vocab_size: int = 8192
    rope_theta: float = 10000.0
    retrieval_hidden: int = 128
    retrieval_dim: int = 128
    pad_id: int = 0
    eos_id: int = 1
    bos_id: int = 2
    unk_id: int = 3
    tool_call_id: int = 4
    tools_id: int = 5
    max_encoder_len: int = 1024
    max_decoder_len: int = 512

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "rope_theta":
                if not isinstance(v, (int, float)) or v <= 0:
                    raise ValueError(f"NeedleConfig.rope_theta must be a positive number, got {v!r}")
                continue
            if not isinstance(v, int) or isinstance(v, bool):
                raise ValueError(f"NeedleConfig.{f.name} must be an int, got {v!r}")
            if f.name.endswith("_id"):
                if not 0 <= v < self.vocab_size:
                    raise ValueError(f"NeedleConfig.{f.name}={v} is outside the vocabulary (size {self.vocab_size})")
            elif v <= 0:
                raise ValueError(f"NeedleConfig.{f.name} must be positive, got {v}")
        if self.num_heads % self.num_kv_heads != 0:
            raise ValueError(
                f"NeedleConfig: num_heads ({self.num_heads}) must be a multiple of num_kv_heads ({self.num_kv_heads})")
        if self.head_dim % 2 != 0:
            raise ValueError(f"NeedleConfig: head_dim ({self.head_dim}) must be even for RoPE")

    @property
    def group(self) -> int:
        """Query heads per kv head (kv head j serves q heads j*group .. j*group+group-1)."""
        return self.num_heads // self.num_kv_heads

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "NeedleConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown NeedleConfig key(s): {', '.join(unknown)}")
        return cls(**dict(d))


# Named shapes for the exporter / bench (`--shape`).
SHAPES: dict[str, NeedleConfig] = {
    "needle-26m": NeedleConfig(),
    # A small shape for fast tests: same structure (GQA 2:1, head_dim even), tiny sizes.
    "tiny": NeedleConfig(d_model=64, num_heads=4, num_kv_heads=2, head_dim=16, encoder_layers=2,
                         decoder_layers=2, vocab_size=256, retrieval_hidden=32, retrieval_dim=16,
                         max_encoder_len=128, max_decoder_len=64),
}
