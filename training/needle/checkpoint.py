"""Loading weights from the files the project deals with, into (NeedleConfig, flat float32 tree).

- Official `needle.pkl`: pickle {"params": nested dict of numpy (float16), "config": {partial}}.
- Training checkpoints (`*.pt`): `torch.save({"config": cfg.to_dict(), "model": model.state_dict()}, path)`
  as written by `save_checkpoint`; also accepted: "state_dict"/"model_state_dict" instead of "model",
  parameter names with a "module." or "_orig_mod." prefix, or a checkpoint tree under "params".
"""
from __future__ import annotations

import os
import pickle
from typing import Any, Mapping

import numpy as np

from .config import NeedleConfig
from .tree import CheckpointError, flatten, infer_config, validate


def load_pickle_checkpoint(path: str) -> tuple[NeedleConfig, dict[str, np.ndarray]]:
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        with open(path, "rb") as f:
            obj = pickle.load(f)
    except Exception as e:
        raise CheckpointError(f"{path} is not a readable pickle: {e}") from None
    return from_tree_object(obj, path)


def from_tree_object(obj: Any, where: str) -> tuple[NeedleConfig, dict[str, np.ndarray]]:
    if not isinstance(obj, Mapping) or "params" not in obj:
        raise CheckpointError(f"{where}: expected a dict with a 'params' key (and an optional 'config')")
    params = obj["params"]
    if not isinstance(params, Mapping):
        raise CheckpointError(f"{where}: 'params' is {type(params).__name__}, expected a nested dict")
    cfg_given = obj.get("config") or {}
    if not isinstance(cfg_given, Mapping):
        raise CheckpointError(f"{where}: 'config' is {type(cfg_given).__name__}, expected a dict")
    flat = flatten(params)
    cfg = infer_config(flat, cfg_given)
    return cfg, validate(flat, cfg)


def save_checkpoint(path: str, model: Any, **extra: Any) -> None:
    """Write a training checkpoint the exporter reads (atomic: temp file + rename)."""
    import torch
    tmp = f"{path}.tmp{os.getpid()}"
    torch.save({"config": model.config.to_dict(), "model": model.state_dict(), **extra}, tmp)
    os.replace(tmp, path)


def load_torch_checkpoint(path: str) -> tuple[NeedleConfig, dict[str, np.ndarray]]:
    import torch

    from .model import PARAM_PATHS
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:
        raise CheckpointError(f"{path} is not a readable torch checkpoint: {e}") from None
    if isinstance(obj, Mapping) and "params" in obj:
        return from_tree_object(obj, path)
    sd = None
    if isinstance(obj, Mapping):
        for key in ("model", "state_dict", "model_state_dict"):
            if isinstance(obj.get(key), Mapping):
                sd = obj[key]
                break
        if sd is None and any(isinstance(v, torch.Tensor) for v in obj.values()):
            sd = obj
    if sd is None:
        raise CheckpointError(f"{path}: no state dict found (expected key 'model', 'state_dict' or 'params')")
    clean: dict[str, Any] = {}
    for k, v in sd.items():
        for prefix in ("module.", "_orig_mod."):
            if k.startswith(prefix):
                k = k[len(prefix):]
        clean[k] = v
    missing = [a for a in PARAM_PATHS if a not in clean]
    if missing:
        raise CheckpointError(f"{path}: state dict is missing parameter '{missing[0]}'")
    flat = {PARAM_PATHS[a]: clean[a].detach().float().cpu().numpy() for a in PARAM_PATHS}
    cfg_given = obj.get("config") if isinstance(obj, Mapping) else None
    if cfg_given is not None and not isinstance(cfg_given, Mapping):
        cfg_given = getattr(cfg_given, "__dict__", None)
    cfg = infer_config(flat, cfg_given or {})
    return cfg, validate(flat, cfg)


def load_any(path: str) -> tuple[NeedleConfig, dict[str, np.ndarray]]:
    if path.endswith((".pkl", ".pickle")):
        return load_pickle_checkpoint(path)
    return load_torch_checkpoint(path)
