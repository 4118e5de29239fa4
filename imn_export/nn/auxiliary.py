"""The auxiliary input ``n`` that stands in for the lost information ``m`` when revealing.

IMN's default distribution is the point mass at zero. The recovering loss pulls ``m`` towards
whatever ``n`` is drawn from; with ``n = 0`` the network learns to leave as little as possible in
``m``, and revealing needs no randomness, so every runtime reveals the same pixels. Gaussian
``n ~ N(0, std^2)`` (HiNet's choice) stays available for comparison.
"""

from __future__ import annotations

import torch

AUX_KINDS = ("zeros", "gaussian")


def sample_aux(like: torch.Tensor, kind: str = "zeros", std: float = 1.0,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """Auxiliary tensor with the shape, dtype and device of ``like`` ``(B, 3, H, W)``."""
    if kind == "zeros":
        return torch.zeros_like(like)
    if kind == "gaussian":
        noise = torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)
        return noise * std
    raise ValueError(f"unknown aux kind {kind!r}; choose from {', '.join(AUX_KINDS)}")
