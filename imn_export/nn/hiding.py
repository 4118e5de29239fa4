"""The hiding network: put the Mask on (hide) and off (reveal), paper sections 2.2-2.3."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from imn_export.nn.coupling import InvertibleBlock
from imn_export.nn.wavelet import haar_dwt, haar_iwt

IMAGE_CHANNELS = 3


@dataclass(frozen=True)
class HidingConfig:
    """Architecture of :class:`HidingNetwork`; stored in every checkpoint."""

    blocks: int = 8
    depth: int = 4
    growth: int = 24
    clamp: float = 2.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "HidingConfig":
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown HidingConfig fields: {sorted(unknown)}")
        return cls(**data)


def _checking_values() -> bool:
    # Value checks read tensors back to Python, which tracing and export cannot do.
    return not (torch.jit.is_tracing() or torch.compiler.is_compiling())


def _check_pair(a: torch.Tensor, b: torch.Tensor, names: tuple[str, str],
                value_range: tuple[float, float] | None) -> None:
    for x, name in zip((a, b), names):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() != 4:
            raise ValueError(f"{name} must be (B, 3, H, W), got shape {tuple(x.shape)}")
        if x.shape[1] != IMAGE_CHANNELS:
            raise ValueError(f"{name} must have 3 (RGB) channels, got {x.shape[1]} "
                             f"(shape {tuple(x.shape)}); convert grayscale/RGBA to RGB first")
        if not x.is_floating_point():
            raise TypeError(f"{name} must be a float tensor in [0, 1], got {x.dtype}; "
                            "for 8-bit images use x.float() / 255")
        if x.shape[-2] % 2 or x.shape[-1] % 2:
            raise ValueError(f"{name} height and width must be even (one Haar level halves them), "
                             f"got {tuple(x.shape[-2:])}")
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} {tuple(a.shape)} and {names[1]} {tuple(b.shape)} must have "
                         "the same shape")
    if a.dtype != b.dtype:
        raise TypeError(f"{names[0]} ({a.dtype}) and {names[1]} ({b.dtype}) must share a dtype")
    if value_range is not None and _checking_values():
        low, high = value_range
        for x, name in zip((a, b), names):
            lo, hi = float(x.detach().min()), float(x.detach().max())
            if lo < low or hi > high:
                raise ValueError(f"{name} values span [{lo:.4g}, {hi:.4g}], expected [0, 1]; "
                                 "for 8-bit images divide by 255")


class HidingNetwork(nn.Module):
    """Invertible network that hides a protected face inside a Mask face.

    Fully convolutional on one Haar level: any ``H`` and ``W`` that are even work (the dense
    blocks see ``H/2 x W/2`` coefficient maps). Inputs are float RGB in ``[0, 1]``.

    * :meth:`hide` ``(protected, mask) -> (masked, lost)``: ``masked`` looks like ``mask``;
      ``lost`` is what the forward pass leaves over (paper's ``m``).
    * :meth:`reveal` ``(masked, aux) -> (recovered, mask_recovered)``: the exact inverse when
      ``aux`` is the true ``lost``; in use ``aux`` is drawn from the auxiliary distribution.

    All tensors are ``(B, 3, H, W)``.
    """

    def __init__(self, config: HidingConfig | None = None):
        super().__init__()
        self.config = config or HidingConfig()
        c = self.config
        channels = 4 * IMAGE_CHANNELS
        self.blocks = nn.ModuleList(
            InvertibleBlock(channels, c.depth, c.growth, c.clamp) for _ in range(c.blocks)
        )

    def hide(self, protected: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _check_pair(protected, mask, ("protected", "mask"), (-1e-6, 1 + 1e-6))
        mask_coeffs, prot_coeffs = haar_dwt(mask), haar_dwt(protected)
        for block in self.blocks:
            mask_coeffs, prot_coeffs = block(mask_coeffs, prot_coeffs)
        return haar_iwt(mask_coeffs), haar_iwt(prot_coeffs)

    def reveal(self, masked: torch.Tensor, aux: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # masked may overshoot [0, 1] slightly before it is saved; only 0-255 input is an error.
        _check_pair(masked, aux, ("masked", "aux"), None)
        if _checking_values() and float(masked.detach().abs().max()) > 16.0:
            raise ValueError("masked values exceed 16; expected floats near [0, 1] "
                             "(for 8-bit images divide by 255)")
        mask_coeffs, prot_coeffs = haar_dwt(masked), haar_dwt(aux)
        for block in reversed(self.blocks):
            mask_coeffs, prot_coeffs = block.inverse(mask_coeffs, prot_coeffs)
        return haar_iwt(prot_coeffs), haar_iwt(mask_coeffs)

    def forward(self, protected: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.hide(protected, mask)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
