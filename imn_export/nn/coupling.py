"""Dense block and the HiNet-style affine coupling block of the hiding network."""

from __future__ import annotations

import torch
from torch import nn


class DenseBlock(nn.Module):
    """Residual-dense conv stack used for the coupling functions rho, phi and eta.

    ``depth`` 3x3 convolutions; each sees the input and all earlier outputs (``growth`` channels
    each). The last conv starts at zero so a fresh coupling block is the identity map.

    Shapes: ``(B, in_channels, h, w) -> (B, out_channels, h, w)``.
    """

    def __init__(self, in_channels: int, out_channels: int, depth: int = 4, growth: int = 24,
                 init_scale: float = 0.01):
        super().__init__()
        if depth < 2:
            raise ValueError(f"DenseBlock depth must be >= 2, got {depth}")
        self.hidden = nn.ModuleList(
            nn.Conv2d(in_channels + i * growth, growth, 3, padding=1) for i in range(depth - 1)
        )
        self.out = nn.Conv2d(in_channels + (depth - 1) * growth, out_channels, 3, padding=1)
        self.act = nn.LeakyReLU(0.2)
        # HiNet's initialisation: small Gaussian weights, zero last layer.
        with torch.no_grad():
            for conv in self.hidden:
                conv.weight.normal_(0.0, init_scale)
                conv.bias.zero_()
            self.out.weight.zero_()
            self.out.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for conv in self.hidden:
            features.append(self.act(conv(torch.cat(features, dim=1))))
        return self.out(torch.cat(features, dim=1))


class InvertibleBlock(nn.Module):
    """One embedding block (paper eq. 3-4 in HiNet's published form).

    Forward (putting on)::

        mask' = mask + phi(prot)
        prot' = prot * exp(clamp * (2 * sigmoid(rho(mask')) - 1)) + eta(mask')

    Inverse (putting off) undoes the two steps in reverse order. Both branches are Haar
    coefficients of shape ``(B, 12, h, w)`` for RGB images.
    """

    def __init__(self, channels: int = 12, depth: int = 4, growth: int = 24, clamp: float = 2.0,
                 init_scale: float = 0.01):
        super().__init__()
        self.clamp = clamp
        self.phi = DenseBlock(channels, channels, depth, growth, init_scale)
        self.rho = DenseBlock(channels, channels, depth, growth, init_scale)
        self.eta = DenseBlock(channels, channels, depth, growth, init_scale)

    def _log_scale(self, mask: torch.Tensor) -> torch.Tensor:
        return self.clamp * (2.0 * torch.sigmoid(self.rho(mask)) - 1.0)

    def forward(self, mask: torch.Tensor, prot: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = mask + self.phi(prot)
        prot = prot * torch.exp(self._log_scale(mask)) + self.eta(mask)
        return mask, prot

    def inverse(self, mask: torch.Tensor, prot: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # Multiply by exp(-s) rather than divide: one op fewer on every export target.
        prot = (prot - self.eta(mask)) * torch.exp(-self._log_scale(mask))
        mask = mask - self.phi(prot)
        return mask, prot
