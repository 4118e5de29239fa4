"""IMN training losses (paper section 2.4) and the 8-bit rounding the masked face goes through."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from kornia.losses import ssim_loss

from imn_export.nn.wavelet import low_frequency


@dataclass(frozen=True)
class LossWeights:
    """lambda1 (embedding) : lambda2 (recovering) : lambda3 (low-frequency); paper default 1:3:1."""

    embedding: float = 1.0
    recovering: float = 3.0
    low_frequency: float = 1.0
    # Share of (1 - SSIM) inside the embedding term. 0 is the paper's pure MSE; a little SSIM
    # moves the hidden signal out of flat regions, where SSIM (and the eye) notice it most.
    embedding_ssim: float = 0.0

    @classmethod
    def parse(cls, ratio: str) -> "LossWeights":
        """From ``"1:3:1"``."""
        parts = ratio.split(":")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if len(values) != 3 or any(v < 0 for v in values) or not any(values):
            raise ValueError(f"loss ratio must be three non-negative numbers like 1:3:1, got {ratio!r}")
        return cls(*values)

    def label(self) -> str:
        return ":".join(f"{v:g}" for v in (self.embedding, self.recovering, self.low_frequency))

    def with_ssim(self, share: float) -> "LossWeights":
        if share < 0:
            raise ValueError(f"SSIM share must be >= 0, got {share}")
        return replace(self, embedding_ssim=share)

    def to_dict(self) -> dict:
        return asdict(self)


def embedding_loss(masked: torch.Tensor, mask: torch.Tensor, ssim_share: float = 0.0) -> torch.Tensor:
    """Masked face vs Mask face ``(B, 3, H, W)``: MSE, plus ``ssim_share * (1 - SSIM)``."""
    loss = F.mse_loss(masked, mask)
    if ssim_share:
        # kornia's ssim_loss is (1 - SSIM) / 2, 11x11 Gaussian window, sigma 1.5.
        loss = loss + ssim_share * 2 * ssim_loss(masked, mask, window_size=11, max_val=1.0)
    return loss


def recovering_loss(recovered: torch.Tensor, protected: torch.Tensor) -> torch.Tensor:
    """Recovered face vs protected face, mean squared error."""
    return F.mse_loss(recovered, protected)


def low_frequency_loss(masked: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Haar LL subband of the masked face vs that of the Mask face."""
    return F.mse_loss(low_frequency(masked), low_frequency(mask))


def quantize_8bit(x: torch.Tensor) -> torch.Tensor:
    """What saving as an 8-bit PNG does: clip to [0, 1], round to 256 levels.

    The rounding passes its gradient straight through; the clipping does not, so the
    recovering loss feels what clipped pixels lose (a dark or bright Mask region has no
    room for the hidden signal).
    """
    clipped = x.clamp(0.0, 1.0)
    return clipped + (torch.round(clipped * 255.0) / 255.0 - clipped).detach()


def total_loss(terms: dict[str, torch.Tensor], weights: LossWeights) -> torch.Tensor:
    return (weights.embedding * terms["embedding"] + weights.recovering * terms["recovering"]
            + weights.low_frequency * terms["low_frequency"])
