"""Training checkpoints: atomic writes, and the stripped weights that ship (loading them for
use is ``imn_export.weights``)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from imn_export.io import atomic_output
from imn_export.weights import load_checkpoint


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """``torch.save``, atomically: a crash never leaves half a checkpoint."""
    with atomic_output(path) as tmp:
        torch.save(state, tmp)


def export_weights(checkpoint: str | os.PathLike, out: str | os.PathLike, **extra) -> Path:
    """Strip a training checkpoint down to what inference needs (float32 weights + metadata)."""
    state = load_checkpoint(checkpoint)
    keep = {k: v for k, v in state.items() if k not in ("optimizer", "rng")}
    keep["model"] = {k: v.float().cpu() for k, v in state["model"].items()}
    keep.update(extra)
    save_checkpoint(out, keep)
    return Path(out)


def ship_weights(checkpoint: str | os.PathLike, out: str | os.PathLike,
                 keep: tuple[str, ...], **extra) -> Path:
    """Keep only ``model`` (as float16) and the ``keep`` keys of a training checkpoint."""
    state = load_checkpoint(checkpoint)
    shipped = {k: state[k] for k in keep if k in state}
    shipped["model"] = {k: v.half().cpu() if v.is_floating_point() else v.cpu()
                        for k, v in state["model"].items()}
    shipped.update(extra)
    save_checkpoint(out, shipped)
    return Path(out)
