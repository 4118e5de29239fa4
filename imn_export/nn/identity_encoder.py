"""A compact identity encoder: aligned face -> unit identity vector (a student of dlib's ResNet)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from imn_export.nn.batch_norm import fold_batch_norms

IDENTITY_DIM = 128  # dlib's descriptor size, so student and teacher vectors compare directly


@dataclass(frozen=True)
class IdentityEncoderConfig:
    input_size: int = 112      # faces are resized to this inside the graph
    widths: tuple[int, ...] = (32, 64, 128, 192)
    dim: int = IDENTITY_DIM

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "IdentityEncoderConfig":
        d = dict(d)
        d["widths"] = tuple(d["widths"])
        return cls(**d)


def _conv_bn_act(cin: int, cout: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.PReLU(cout))


class _InvertedResidual(nn.Module):
    """MobileFaceNet's block: expand 1x1, depthwise 3x3, project 1x1; residual when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int = 2):
        super().__init__()
        hidden = cin * expand
        self.residual = stride == 1 and cin == cout
        self.body = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.PReLU(hidden),
            _conv_bn_act(hidden, hidden, stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


class IdentityEncoder(nn.Module):
    """Face ``(B, 3, H, W)`` in [0, 1], any size -> unit identity vector ``(B, D)``.

    MobileFaceNet-like: stride-2 stem, four stages, a global depthwise conv over the 7x7 map
    (faces are aligned, so where a feature sits matters and average pooling would discard it).
    """

    def __init__(self, config: IdentityEncoderConfig = IdentityEncoderConfig()):
        super().__init__()
        self.config = config
        w = config.widths
        layers: list[nn.Module] = [_conv_bn_act(3, w[0], stride=2)]  # 112 -> 56
        cin = w[0]
        for i, cout in enumerate(w):
            stride = 1 if i == 0 else 2                                # 56 -> 28 -> 14 -> 7
            layers += [_InvertedResidual(cin, cout, stride), _InvertedResidual(cout, cout, 1)]
            cin = cout
        self.features = nn.Sequential(*layers)
        side = config.input_size // 16
        self.global_depthwise = nn.Sequential(
            nn.Conv2d(cin, cin, side, groups=cin, bias=False), nn.BatchNorm2d(cin))
        self.head = nn.Linear(cin, config.dim)

    def forward(self, face: torch.Tensor) -> torch.Tensor:
        size = self.config.input_size
        if face.shape[-2:] != (size, size):
            face = F.interpolate(face, size=(size, size), mode="bilinear", align_corners=False,
                                 antialias=face.shape[-1] > size)
        x = self.features((face - 0.5) / 0.5)
        x = self.global_depthwise(x).flatten(1)
        return F.normalize(self.head(x), dim=1)


def resize_faces(faces: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 ``(N, 3, H, W)`` -> uint8 ``(N, 3, size, size)``, area-averaged, in chunks."""
    out = torch.empty((faces.shape[0], 3, size, size), dtype=torch.uint8)
    for i in range(0, faces.shape[0], 256):
        chunk = F.interpolate(faces[i:i + 256].float(), size=(size, size), mode="area")
        out[i:i + 256] = chunk.round().clamp(0, 255).to(torch.uint8)
    return out


@torch.no_grad()
def embed(encoder: IdentityEncoder, faces: torch.Tensor, batch: int = 128) -> np.ndarray:
    """Identity vectors ``(N, D)`` of uint8 faces ``(N, 3, H, W)``."""
    encoder.eval()
    out = [encoder(faces[i:i + batch].float() / 255) for i in range(0, faces.shape[0], batch)]
    return torch.cat(out).cpu().numpy()


IDENTITY_INPUT_SIZE = 96  # the identity graph's input: the aligned crop box-resized by the SDK
# The encoder's vectors before normalisation are about 16.6 long on real faces; scaled by 1/16
# they are near unit length, so parity in dB over a peak of 1 means what it does for images
# (int8 at 38 dB: cosine >= 0.989 to fp32 on 20 real faces).
IDENTITY_OUTPUT_SCALE = 1 / 16


class IdentityGraph(nn.Module):
    """``face (1, 3, 96, 96) in [0, 1] -> (identity (1, 128),)``: the distilled identity encoder
    with BatchNorm folded, without its final normalisation (compare vectors by cosine; Core ML's
    converters lack an L2-norm op). The face is the aligned crop box-resized to 96 px by the SDK
    (Pillow's BOX, which every SDK reproduces), so the graph holds no resize."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        if encoder.config.input_size != IDENTITY_INPUT_SIZE:
            raise ValueError(f"the identity graph takes {IDENTITY_INPUT_SIZE}-px faces; this encoder "
                             f"was trained at {encoder.config.input_size}")
        self.net = fold_batch_norms(encoder)

    def forward(self, face: torch.Tensor) -> tuple[torch.Tensor]:
        x = self.net.features((face - 0.5) / 0.5)
        return (self.net.head(self.net.global_depthwise(x).flatten(1)) * IDENTITY_OUTPUT_SCALE,)
