"""A compact identity encoder: aligned face -> unit identity vector (a student of dlib's ResNet)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

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
