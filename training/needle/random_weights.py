"""Random checkpoint trees for tests, benches and int8 accuracy checks.

Unlike a fresh init (norm scales and gates exactly 0), every leaf here is non-zero so a test exercises the
(1+g) scales and sigmoid gates. Projections are N(0, 0.02)-ish like a trained model's, so logits have a
realistic spread for quantisation checks."""
from __future__ import annotations

import numpy as np

from .config import NeedleConfig
from .tree import expected_shapes, unflatten


def random_flat(c: NeedleConfig, seed: int = 0, dtype=np.float32) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for path, shape in expected_shapes(c).items():
        if path == "embedding/embedding":
            a = rng.normal(0.0, c.d_model ** -0.5, shape)
        elif path.endswith("kernel"):
            fan_in = shape[-2]
            a = rng.normal(0.0, fan_in ** -0.5, shape)
        elif path.endswith("scale"):
            a = rng.normal(0.0, 0.2, shape)
        elif path.endswith("gate"):
            a = rng.normal(0.0, 1.0, shape)
        elif path == "log_temp":
            a = np.array(np.log(0.07))
        else:  # bias
            a = rng.normal(0.0, 0.05, shape)
        out[path] = np.asarray(a, dtype=dtype)
    return out


def random_tree(c: NeedleConfig, seed: int = 0, dtype=np.float32) -> dict:
    return unflatten(random_flat(c, seed, dtype))
