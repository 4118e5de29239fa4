"""Shipped weights: where they live and how each network is loaded for use (export, CLI,
evaluation and scripts all load through here). Writing checkpoints belongs to training
(``imn_export.train.checkpoint``)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from imn_export.nn.hiding import HidingConfig, HidingNetwork

DEFAULT_WEIGHTS_NAME = "imn-inn-default.pt"  # fine-tuned on Masks v2, the default Masks
PAPER_WEIGHTS_NAME = "imn-inn-paper.pt"  # other faces as Masks (the paper); the default until 2026-11-29
QAT_WEIGHTS_NAME = "imn-inn-qat.pt"  # quantization-aware: what int8 bundles are made from
IDENTITY_WEIGHTS_NAME = "imn-identity.pt"
MASKNET_WEIGHTS_NAME = "imn-masknet.pt"
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


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

def default_weights_path() -> Path:
    """Shipped weights: ``$IMN_WEIGHTS`` if set, else ``models/`` of this checkout."""
    if os.environ.get("IMN_WEIGHTS"):
        return Path(os.environ["IMN_WEIGHTS"])
    return MODELS_DIR / DEFAULT_WEIGHTS_NAME

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

def shipped_or(path: str | os.PathLike | None, name: str) -> Path:
    """``path`` when given, else the shipped file ``models/<name>``; clear error when missing."""
    resolved = Path(path) if path else MODELS_DIR / name
    if not resolved.is_file():
        raise FileNotFoundError(f"weights not found: {resolved}")
    return resolved

def load_masknet(path: str | os.PathLike | None = None, device: str | torch.device = "cpu"):
    """Mask-net (eval mode) from a ``train-masknet`` checkpoint or the shipped weights."""
    from imn_export.nn.masknet import MaskNet, MaskNetConfig
    path = shipped_or(path, MASKNET_WEIGHTS_NAME)
    state = load_checkpoint(path, map_location=device)
    if "masknet_config" not in state:
        raise ValueError(f"{path} has no Mask-net (keys: {sorted(state)[:8]})")
    net = MaskNet(MaskNetConfig.from_dict(state["masknet_config"]))
    # Shipped weights are stored in float16 to keep the file small; compute is float32.
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state["model"].items()})
    return net.to(device).eval()

def load_identity_encoder(path: str | os.PathLike | None = None,
                          device: str | torch.device = "cpu"):
    """The identity encoder (eval mode, frozen) from a ``train-identity`` checkpoint or shipped."""
    from imn_export.nn.identity_encoder import IdentityEncoder, IdentityEncoderConfig
    path = shipped_or(path, IDENTITY_WEIGHTS_NAME)
    state = load_checkpoint(path, map_location=device)
    if "identity_config" not in state:
        raise ValueError(f"{path} is not an identity encoder checkpoint")
    encoder = IdentityEncoder(IdentityEncoderConfig.from_dict(state["identity_config"]))
    encoder.load_state_dict({k: v.float() if v.is_floating_point() else v
                             for k, v in state["model"].items()})
    return encoder.to(device).eval().requires_grad_(False)
