"""Checkpoints: atomic writes, resume state, and loading a hiding network for use."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

from imn_export.io import atomic_output

from imn_export.nn.hiding import HidingConfig, HidingNetwork

DEFAULT_WEIGHTS_NAME = "imn-inn-default.pt"


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """``torch.save``, atomically: a crash never leaves half a checkpoint."""
    with atomic_output(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        # weights_only: a checkpoint is tensors and plain containers, so an untrusted file
        # cannot run code when it is loaded.
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise ValueError(f"{path} is not a readable IMN checkpoint: {error}") from error


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_weights_path() -> Path:
    """Shipped weights: ``$IMN_WEIGHTS`` if set, else ``models/`` of this checkout."""
    if os.environ.get("IMN_WEIGHTS"):
        return Path(os.environ["IMN_WEIGHTS"])
    return Path(__file__).resolve().parents[2] / "models" / DEFAULT_WEIGHTS_NAME


def load_hiding_network(path: str | os.PathLike | None = None,
                        device: str | torch.device = "cpu") -> tuple[HidingNetwork, dict]:
    """Load a hiding network (eval mode) from a training checkpoint or shipped weights.

    Returns the network and the checkpoint's metadata (config, aux, step, ...).
    """
    path = Path(path) if path else default_weights_path()
    state = load_checkpoint(path, map_location=device)
    if "model" not in state or "hiding_config" not in state:
        raise ValueError(f"{path} has no hiding network (keys: {sorted(state)[:8]})")
    net = HidingNetwork(HidingConfig.from_dict(state["hiding_config"]))
    net.load_state_dict(state["model"])
    meta = {k: v for k, v in state.items() if k not in ("model", "optimizer", "rng")}
    meta["path"] = str(path)
    return net.to(device).eval(), meta


def export_weights(checkpoint: str | os.PathLike, out: str | os.PathLike, **extra) -> Path:
    """Strip a training checkpoint down to what inference needs (float32 weights + metadata)."""
    state = load_checkpoint(checkpoint)
    keep = {k: v for k, v in state.items() if k not in ("optimizer", "rng")}
    keep["model"] = {k: v.float().cpu() for k, v in state["model"].items()}
    keep.update(extra)
    save_checkpoint(out, keep)
    return Path(out)
