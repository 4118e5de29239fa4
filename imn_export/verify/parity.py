"""Artifact vs reference checks shared by every export target and ``imn bench``.

A *runner* is any callable ``(*inputs: np.ndarray) -> dict[output name, np.ndarray]`` for one
graph: the PyTorch reference, onnxruntime, LiteRT, Core ML or its MIL evaluator. All arrays
are ``(1, 3, S, S)`` float32; images in ``[0, 1]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from imn_export.metrics import psnr as psnr_255
from imn_export.nn.hiding import HidingNetwork

Runner = Callable[..., dict[str, np.ndarray]]
_MIN_MSE = 1e-20


@dataclass
class GraphRunners:
    """The two graphs of one runtime at one precision."""

    label: str
    hide: Runner
    reveal: Runner


def psnr_unit(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB with peak 1, for float outputs (``lost`` is not bounded, the peak is a convention)."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return 10.0 * math.log10(1.0 / max(mse, _MIN_MSE))


def to_uint8_image(x: np.ndarray) -> np.ndarray:
    """``(1, 3, H, W)`` float -> ``(H, W, 3)`` uint8, clipped and rounded: the saved PNG."""
    return np.clip(np.rint(np.asarray(x, np.float64)[0] * 255.0), 0, 255).astype(np.uint8).transpose(1, 2, 0)


def from_uint8_image(rgb: np.ndarray) -> np.ndarray:
    return (rgb.astype(np.float32) / 255.0).transpose(2, 0, 1)[None].copy()


def torch_runner(fn: Callable[..., Sequence[torch.Tensor]], names: Sequence[str],
                 device: torch.device | str = "cpu") -> Runner:
    """A runner over a torch callable returning one tensor per output name."""
    @torch.no_grad()
    def run(*inputs: np.ndarray) -> dict[str, np.ndarray]:
        out = fn(*(torch.from_numpy(np.asarray(x, np.float32)).to(device) for x in inputs))
        return {n: o.float().cpu().numpy() for n, o in zip(names, out)}
    return run


def torch_runners(net: HidingNetwork, device: torch.device | str = "cpu") -> GraphRunners:
    """The fp32 PyTorch reference as runners."""
    net = net.to(device).float().eval()
    return GraphRunners(f"torch fp32 ({torch.device(device).type})",
                        torch_runner(net.hide, ("masked", "lost"), device),
                        torch_runner(net.reveal, ("recovered", "mask_recovered"), device))


def output_parity(runner: Runner, reference: Runner, inputs: Sequence[Sequence[np.ndarray]]) -> dict[str, float]:
    """Worst-case (over inputs) PSNR of each output of ``runner`` against ``reference``."""
    worst: dict[str, float] = {}
    for batch in inputs:
        got, want = runner(*batch), reference(*batch)
        for name, value in want.items():
            worst[name] = min(worst.get(name, math.inf), psnr_unit(got[name], value))
    return worst


@dataclass
class RoundTrip:
    recovered_psnr: float  # mean, protected vs recovered from the 8-bit masked face, 0-255 scale
    masked_psnr: float  # mean, Mask vs 8-bit masked face
    invertibility_error: float  # max abs error of reveal(hide(p, m), lost) vs p


def round_trip(hider: GraphRunners, revealer: GraphRunners, pairs: Sequence[tuple[np.ndarray, np.ndarray]],
               aux: Callable[[np.ndarray], np.ndarray] = np.zeros_like) -> RoundTrip:
    """Hide on ``hider``, save as 8 bits, reveal on ``revealer`` with ``aux``; and reveal the
    float masked face with the true lost information to measure invertibility.

    ``pairs`` are ``(protected, mask)`` uint8 ``(S, S, 3)`` images.
    """
    recovered, masked, inverse = [], [], 0.0
    for protected, mask in pairs:
        hidden = hider.hide(from_uint8_image(protected), from_uint8_image(mask))
        masked8 = to_uint8_image(hidden["masked"])
        revealed = revealer.reveal(from_uint8_image(masked8), aux(hidden["lost"]))
        recovered.append(psnr_255(protected, to_uint8_image(revealed["recovered"])))
        masked.append(psnr_255(mask, masked8))
        exact = revealer.reveal(hidden["masked"], hidden["lost"])["recovered"]
        inverse = max(inverse, float(np.abs(exact - from_uint8_image(protected)).max()))
    return RoundTrip(float(np.mean(recovered)), float(np.mean(masked)), inverse)


def cross_runtime_matrix(runtimes: Sequence[GraphRunners], pairs: Sequence[tuple[np.ndarray, np.ndarray]],
                         aux: Callable[[np.ndarray], np.ndarray] = np.zeros_like,
                         progress: bool = True) -> dict[str, dict[str, float]]:
    """Recovered PSNR (dB, mean over ``pairs``) for hide on X (rows), masked face saved as
    8 bits, reveal on Y (columns). Each row hides once; each cell reveals."""
    from tqdm.auto import tqdm

    matrix: dict[str, dict[str, float]] = {h.label: {} for h in runtimes}
    bar = tqdm(total=len(runtimes) * (len(runtimes) + 1), desc="cross-runtime", unit="run",
               disable=not progress)
    for hider in runtimes:
        shared = []
        for protected, mask in pairs:
            hidden = hider.hide(from_uint8_image(protected), from_uint8_image(mask))
            shared.append((protected, from_uint8_image(to_uint8_image(hidden["masked"])), aux(hidden["lost"])))
        bar.update()
        for revealer in runtimes:
            scores = [psnr_255(protected, to_uint8_image(revealer.reveal(masked, n)["recovered"]))
                      for protected, masked, n in shared]
            matrix[hider.label][revealer.label] = float(np.mean(scores))
            bar.update()
    bar.close()
    return matrix


def format_matrix(matrix: dict[str, dict[str, float]]) -> str:
    labels = list(matrix)
    width = max(len(label) for label in labels) + 2
    lines = ["hide \\ reveal".ljust(width) + "".join(label[:width - 2].rjust(width) for label in labels)]
    for row in labels:
        lines.append(row.ljust(width) + "".join(f"{matrix[row][col]:.2f}".rjust(width) for col in labels))
    return "\n".join(lines)
