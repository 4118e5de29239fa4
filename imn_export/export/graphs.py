"""The graphs a bundle carries, as a table: name, wrapper module, I/O names and shapes, int8 scope.

Each graph is its own artifact with static shapes. I/O names are a contract with the SDKs
(``sdk/spec/bundle.md``): change them only with a new manifest schema version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from imn_export.nn.batch_norm import fold_batch_norms
from imn_export.nn.hiding import HidingNetwork
from imn_export.nn.identity_encoder import IDENTITY_INPUT_SIZE, IdentityGraph
from imn_export.nn.masknet import MaskNet
from imn_export.nn.quant_scope import CONVOLUTIONS, COUPLING_FUNCTIONS, QuantScope


@dataclass
class Models:
    """The networks a bundle is exported from; ``masknet`` and ``identity`` are optional."""

    hiding: HidingNetwork
    masknet: MaskNet | None = None
    identity: nn.Module | None = None   # the distilled identity encoder (donor choice, Masks v2)


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


class MaskNetGraph(nn.Module):
    """``(face (1, 3, S, S) in [0, 1], identity (1, D) unit) -> (mask (1, 3, S, S),)``; BatchNorm
    folded into the convs."""

    def __init__(self, net: MaskNet):
        super().__init__()
        self.net = fold_batch_norms(net)

    def forward(self, face: torch.Tensor, identity: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.net(face, identity),)


def image_shape(size: int) -> tuple[int, int, int, int]:
    """Static NCHW shape of every image tensor at artifact size ``size``."""
    return (1, 3, size, size)


@dataclass(frozen=True)
class GraphSpec:
    name: str
    build: Callable[[Models], nn.Module]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    doc: str
    quant: QuantScope
    needs: str = "hiding"                      # which of Models it is built from
    vectors: tuple[str, ...] = ()              # inputs or outputs that are (1, D) vectors, not images
    image_size: int | None = None              # fixed image side; None = the artifact's size

    def available(self, models: Models) -> bool:
        return getattr(models, self.needs) is not None

    def input_shape(self, name: str, size: int, vector_dim: int = 128) -> tuple[int, ...]:
        return (1, vector_dim) if name in self.vectors else image_shape(self.image_size or size)


GRAPHS: dict[str, GraphSpec] = {
    spec.name: spec for spec in (
        GraphSpec("hide", lambda m: HideGraph(m.hiding), ("protected", "mask"), ("masked", "lost"),
                  "put the Mask on: hide the protected face inside the Mask face", COUPLING_FUNCTIONS),
        GraphSpec("reveal", lambda m: RevealGraph(m.hiding), ("masked", "aux"),
                  ("recovered", "mask_recovered"),
                  "put the Mask off: recover the protected face from the masked face and aux",
                  COUPLING_FUNCTIONS),
        GraphSpec("masknet", lambda m: MaskNetGraph(m.masknet), ("face", "identity"), ("mask",),
                  "make the Mask face: the aligned face with a replacement identity", CONVOLUTIONS,
                  needs="masknet", vectors=("identity",)),
        GraphSpec("identity", lambda m: IdentityGraph(m.identity), ("face",), ("identity",),
                  "the identity vector of an aligned face at 96 px, to draw a donor far from it",
                  CONVOLUTIONS, needs="identity", vectors=("identity",), image_size=IDENTITY_INPUT_SIZE),
    )
}
HIDING_GRAPHS = ("hide", "reveal")


def sample_inputs(spec: GraphSpec, size: int, seed: int = 0,
                  vector_dim: int = 128) -> tuple[torch.Tensor, ...]:
    """Distinct random inputs for tracing (identity vectors unit length).

    Converters that trace with the *same* tensor passed twice may fold the two inputs together
    (seen with litert-torch: outputs off by up to 2.9), so every input gets its own values.
    """
    generator = torch.Generator().manual_seed(seed)
    samples = []
    for name in spec.inputs:
        x = torch.rand(spec.input_shape(name, size, vector_dim), generator=generator)
        samples.append(F.normalize(x - 0.5, dim=1) if name in spec.vectors else x)
    return tuple(samples)
