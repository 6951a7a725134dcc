"""Checkpoints with exact resume: RNG states, seeding, reading a checkpoint of the same run only."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

CHECKPOINT = "checkpoint.pt"


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def load_checkpoint(path: Path, fingerprint: dict[str, Any]) -> dict[str, Any]:
    """Our own checkpoint (trusted pickle); ``ValueError`` naming the file if unreadable or from another
    run configuration."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001  (any unpickling failure means a corrupt file)
        raise ValueError(f"{path}: cannot read the checkpoint ({err}); delete it or run with --no-resume") from None
    if state.get("fingerprint") != fingerprint:
        diff = fingerprint_diff(state.get("fingerprint"), fingerprint)
        raise ValueError(f"{path}: checkpoint of a different run ({diff}); delete it or run with --no-resume")
    return state


def _shown(key: str, value: Any) -> str:
    return str(value)[:12] if key == "dataset" and isinstance(value, str) else repr(value)


def fingerprint_diff(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """The differing entries of two run fingerprints, ``key old → new`` (dataset fingerprints shortened)."""
    old = old or {}
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return "differs in " + ", ".join(f"{k} {_shown(k, old.get(k))} → {_shown(k, new.get(k))}" for k in keys)
