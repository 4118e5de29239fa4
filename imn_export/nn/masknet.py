"""Mask-net (paper section 2.1, Fig. 2): protected face + replacement identity -> Mask face.

SimSwap-like: an encoding module, an Identity Injection Module (residual blocks whose AdaIN scale
and shift come from the identity vector), a decoding module, then a compact face-enhancing stage
standing in for GPEN (which, at about 71M parameters, does not fit on a phone).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from imn_export.nn.identity_encoder import IDENTITY_DIM


@dataclass(frozen=True)
class MaskNetConfig:
    widths: tuple[int, ...] = (32, 64, 96, 160)  # stem, then one per stride-2 downsampling
    injection_blocks: int = 4
    enhancer_width: int = 32
    enhancer_blocks: int = 2
    identity_dim: int = IDENTITY_DIM
    # The graph resizes its input to this side and the Mask back to the input's side, so weights
    # trained on CPU at 128 px keep seeing faces at the scale they learned.
    work_size: int = 128

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "MaskNetConfig":
        d = dict(d)
        d["widths"] = tuple(d["widths"])
        return cls(**d)


def adaptive_instance_norm(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor,
                           eps: float = 1e-5) -> torch.Tensor:
    """AdaIN: instance-normalise ``x`` ``(B, C, H, W)``, then ``x * (1 + scale) + shift`` with
    ``scale``, ``shift`` ``(B, C)``."""
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = (x - mean).pow(2).mean(dim=(2, 3), keepdim=True)
    normalised = (x - mean) * torch.rsqrt(var + eps)
    return normalised * (1 + scale[..., None, None]) + shift[..., None, None]


class AdaIN(nn.Module):
    """Scale and shift of the instance norm predicted from the identity vector ``(B, D)``."""

    def __init__(self, channels: int, identity_dim: int):
        super().__init__()
        self.style = nn.Linear(identity_dim, 2 * channels)
        nn.init.zeros_(self.style.weight)
        nn.init.zeros_(self.style.bias)

    def forward(self, x: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
        scale, shift = self.style(identity).chunk(2, dim=1)
        return adaptive_instance_norm(x, scale, shift)


class IdentityInjectionBlock(nn.Module):
    """conv -> AdaIN -> ReLU -> conv -> AdaIN, plus the input (SimSwap's ResnetBlock_Adain)."""

    def __init__(self, channels: int, identity_dim: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.norm1 = AdaIN(channels, identity_dim)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.norm2 = AdaIN(channels, identity_dim)

    def forward(self, x: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm1(self.conv1(x), identity))
        return x + self.norm2(self.conv2(y), identity)


def _down(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1), nn.BatchNorm2d(cout), nn.ReLU())


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                         nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class FaceEnhancer(nn.Module):
    """A few full-resolution residual conv blocks that add back texture: ``(B, 3, H, W)`` in [0, 1]
    -> the same, enhanced. The phone-sized stand-in for GPEN."""

    def __init__(self, width: int = 32, blocks: int = 2):
        super().__init__()
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.ModuleList(nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.LeakyReLU(0.2),
                                                nn.Conv2d(width, width, 3, padding=1))
                                  for _ in range(blocks))
        self.tail = nn.Conv2d(width, 3, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, face: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.head(face), 0.2)
        for block in self.body:
            x = x + block(x)
        return (face + self.tail(x)).clamp(0.0, 1.0)


class MaskNet(nn.Module):
    """``forward(face (B, 3, H, W) in [0, 1], identity (B, D) unit) -> mask (B, 3, H, W) in [0, 1]``.

    ``H`` and ``W`` must be equal; the face is resized to ``config.work_size`` and the Mask back.
    """

    def __init__(self, config: MaskNetConfig = MaskNetConfig()):
        super().__init__()
        self.config = config
        w = config.widths
        self.stem = nn.Sequential(nn.Conv2d(3, w[0], 7, padding=3, padding_mode="reflect"),
                                  nn.BatchNorm2d(w[0]), nn.ReLU())
        self.encoder = nn.Sequential(*[_down(a, b) for a, b in zip(w[:-1], w[1:])])
        self.injection = nn.ModuleList(IdentityInjectionBlock(w[-1], config.identity_dim)
                                       for _ in range(config.injection_blocks))
        self.decoder = nn.Sequential(*[_up(b, a) for a, b in zip(w[:-1], w[1:])][::-1])
        self.to_rgb = nn.Conv2d(w[0], 3, 7, padding=3, padding_mode="reflect")
        self.enhancer = FaceEnhancer(config.enhancer_width, config.enhancer_blocks)

    def generate(self, face: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
        """The network at its working size: ``(B, 3, S, S)`` -> ``(B, 3, S, S)``, no resizing."""
        x = self.encoder(self.stem(face * 2 - 1))
        for block in self.injection:
            x = block(x, identity)
        return self.enhancer(torch.sigmoid(self.to_rgb(self.decoder(x))))

    def forward(self, face: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
        side = face.shape[-1]
        work = self.config.work_size
        if side % work == 0 and side > work:
            # Area downsampling as a plain average pool: every exporter handles it, while an
            # antialiased Resize needs ONNX opset 18.
            face = F.avg_pool2d(face, side // work)
        elif side != work:
            face = F.interpolate(face, size=(work, work), mode="bilinear", align_corners=False)
        mask = self.generate(face, identity)
        if side != work:
            mask = F.interpolate(mask, size=(side, side), mode="bilinear", align_corners=False)
        return mask.clamp(0.0, 1.0)


class PatchDiscriminator(nn.Module):
    """PatchGAN critic used only in training: ``(B, 3, H, W)`` -> logits ``(B, 1, H/8, W/8)`` and
    the intermediate features (for SimSwap's feature-matching loss)."""

    def __init__(self, width: int = 48, layers: int = 3):
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        blocks, cin = [], 3
        for i in range(layers):
            cout = width * 2 ** i
            blocks.append(nn.Sequential(sn(nn.Conv2d(cin, cout, 4, 2, 1)), nn.LeakyReLU(0.2)))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.head = sn(nn.Conv2d(cin, 1, 3, padding=1))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        features, x = [], image * 2 - 1
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return self.head(x), features
