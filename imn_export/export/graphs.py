"""The graphs a bundle carries, as a table: name, wrapper module, I/O names.

Each graph is its own artifact with static shapes. I/O names are a contract with the SDKs
(``sdk/spec/bundle.md``): change them only with a new manifest schema version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from imn_export.nn.hiding import HidingNetwork


class HideGraph(nn.Module):
    """``(protected, mask) -> (masked, lost)``, all ``(1, 3, S, S)`` float32 in ``[0, 1]``."""

    def __init__(self, net: HidingNetwork):
        super().__init__()
        self.net = net

    def forward(self, protected: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net.hide(protected, mask)


class RevealGraph(nn.Module):
    """``(masked, aux) -> (recovered, mask_recovered)``, all ``(1, 3, S, S)`` float32."""

    def __init__(self, net: HidingNetwork):
        super().__init__()
        self.net = net

    def forward(self, masked: torch.Tensor, aux: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net.reveal(masked, aux)


@dataclass(frozen=True)
class GraphSpec:
    name: str
    build: Callable[[HidingNetwork], nn.Module]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    doc: str


GRAPHS: dict[str, GraphSpec] = {
    spec.name: spec for spec in (
        GraphSpec("hide", HideGraph, ("protected", "mask"), ("masked", "lost"),
                  "put the Mask on: hide the protected face inside the Mask face"),
        GraphSpec("reveal", RevealGraph, ("masked", "aux"), ("recovered", "mask_recovered"),
                  "put the Mask off: recover the protected face from the masked face and aux"),
    )
}


def image_shape(size: int) -> tuple[int, int, int, int]:
    """Static NCHW shape of every graph tensor at artifact size ``size``."""
    return (1, 3, size, size)


def sample_inputs(spec: GraphSpec, size: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Distinct random inputs for tracing.

    Converters that trace with the *same* tensor passed twice may fold the two inputs together
    (seen with litert-torch: outputs off by up to 2.9), so every input gets its own values.
    """
    generator = torch.Generator().manual_seed(seed)
    return tuple(torch.rand(image_shape(size), generator=generator) for _ in spec.inputs)
