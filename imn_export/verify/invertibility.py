"""Exact invertibility: reveal(hide(p, m), lost) == (p, m) with the true lost information."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from imn_export.io import list_images, read_rgb, to_tensor
from imn_export.nn.hiding import HidingNetwork

# Max abs error allowed on the [0, 1] scale.
TOLERANCES = {torch.float32: 1e-4, torch.float64: 1e-9}

HideFn = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class InvertibilityCase:
    source: str
    size: tuple[int, int]
    dtype: str
    recovered_error: float
    mask_error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return max(self.recovered_error, self.mask_error) <= self.tolerance


def round_trip_errors(hide: HideFn, reveal: HideFn, protected: torch.Tensor,
                      mask: torch.Tensor) -> tuple[float, float]:
    """Max abs error of the recovered face and recovered Mask when revealing with the true lost."""
    masked, lost = hide(protected, mask)
    recovered, mask_recovered = reveal(masked, lost)
    return (float((recovered - protected).abs().max()), float((mask_recovered - mask).abs().max()))


def _crop_resize(rgb: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    from PIL import Image
    image = Image.fromarray(rgb).resize((size[1], size[0]), Image.BICUBIC)
    return to_tensor(np.array(image))


def _real_faces(images: str | Path | None) -> list[tuple[str, np.ndarray]]:
    """Two real images: the astronaut photo shipped with scikit-image, plus two from ``images``."""
    from skimage.data import astronaut
    faces = [("astronaut", astronaut()[0:256, 128:384])]
    if images:
        faces += [(p.name, read_rgb(p)) for p in list_images(images)[:2]]
    return faces


@torch.no_grad()
def verify_invertibility(net: HidingNetwork, sizes: tuple[tuple[int, int], ...] = ((64, 64), (128, 96), (256, 256)),
                         images: str | Path | None = None, device: str | torch.device = "cpu",
                         seed: int = 0) -> list[InvertibilityCase]:
    """Round-trip random and real inputs at several sizes in float32 and float64."""
    generator = torch.Generator().manual_seed(seed)
    real = _real_faces(images)
    cases = []
    for dtype, tolerance in TOLERANCES.items():
        model = copy.deepcopy(net).to(device=device, dtype=dtype).eval()
        for size in sizes:
            inputs = [("random", torch.rand((1, 3, *size), generator=generator),
                       torch.rand((1, 3, *size), generator=generator))]
            name_a, rgb_a = real[0]
            name_b, rgb_b = real[-1] if len(real) > 1 else real[0]
            inputs.append((f"{name_a}+{name_b} (flipped)", _crop_resize(rgb_a, size), _crop_resize(rgb_b[::-1].copy(), size)))
            for source, protected, mask in inputs:
                errors = round_trip_errors(model.hide, model.reveal, protected.to(device, dtype),
                                           mask.to(device, dtype))
                cases.append(InvertibilityCase(source, size, str(dtype).replace("torch.", ""),
                                               *errors, tolerance))
    return cases


def format_cases(cases: list[InvertibilityCase]) -> str:
    lines = [f"{'input':<28}{'size':>10}{'dtype':>9}{'recovered err':>15}{'mask err':>11}{'tol':>8}  ok"]
    for c in cases:
        lines.append(f"{c.source[:27]:<28}{c.size[0]:>5}x{c.size[1]:<4}{c.dtype:>9}{c.recovered_error:>15.2e}"
                     f"{c.mask_error:>11.2e}{c.tolerance:>8.0e}  {'yes' if c.passed else 'NO'}")
    return "\n".join(lines)
