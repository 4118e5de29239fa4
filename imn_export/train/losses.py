"""The training losses of the three networks, one section each.

- hiding network: the paper's 1:3:1 loss (section 2.4) and the 8-bit rounding the masked face
  goes through;
- Mask-net: SimSwap's terms (identity, reconstruction, feature matching, hinge adversarial);
- identity encoder: distillation from dlib's descriptors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from kornia.losses import ssim_loss

from imn_export.nn.identity_encoder import IdentityEncoder
from imn_export.nn.masknet import MaskNet, PatchDiscriminator
from imn_export.nn.wavelet import low_frequency


# --- hiding network (paper section 2.4) ---------------------------------------------------------

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


# --- Mask-net (SimSwap) -------------------------------------------------------------------------

@dataclass(frozen=True)
class MaskNetLossWeights:
    """SimSwap's weights: identity 10, reconstruction 10, feature matching 10, adversarial 1."""

    identity: float = 10.0
    reconstruction: float = 10.0
    feature_matching: float = 10.0
    adversarial: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


def _shifted(x: torch.Tensor, generator: torch.Generator, max_shift: int = 4) -> torch.Tensor:
    """A random translation, so the Mask must carry the identity robustly, not as a pattern the
    frozen encoder happens to read at one position."""
    dy, dx = (int(v) for v in torch.randint(-max_shift, max_shift + 1, (2,), generator=generator))
    return torch.roll(x, (dy, dx), (-2, -1))


def generator_losses(masknet: MaskNet, discriminator: PatchDiscriminator, encoder: IdentityEncoder,
                     faces: torch.Tensor, identity: torch.Tensor, own: torch.Tensor,
                     generator: torch.Generator) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Loss terms for faces ``(B, 3, S, S)``, requested identities ``(B, D)`` and a mask ``own``
    ``(B,)`` of the faces asked to keep their identity. Returns the terms and the Masks."""
    masks = masknet.generate(faces, identity)
    fake_logits, fake_features = discriminator(masks)
    with torch.no_grad():
        _, real_features = discriminator(faces)
    cosine = (encoder(_shifted(masks, generator)) * identity).sum(1)
    per_face_l1 = (masks - faces).abs().mean(dim=(1, 2, 3))
    terms = {
        "identity": (1 - cosine).mean(),
        "reconstruction": (per_face_l1 * own).sum() / own.sum().clamp(min=1),
        "feature_matching": sum(F.l1_loss(f, r) for f, r in zip(fake_features, real_features)),
        "adversarial": -fake_logits.mean(),
    }
    return terms, masks


def discriminator_loss(discriminator: PatchDiscriminator, real: torch.Tensor,
                       fake: torch.Tensor) -> torch.Tensor:
    """Hinge loss."""
    return (F.relu(1 - discriminator(real)[0]).mean() + F.relu(1 + discriminator(fake)[0]).mean())


# --- identity encoder (distilled from dlib) ------------------------------------------------------

def distillation_loss(student: torch.Tensor, teacher: torch.Tensor,
                      relation_weight: float) -> torch.Tensor:
    """``1 - cos`` per face plus the MSE between the batch's two cosine-similarity matrices."""
    loss = (1 - (student * teacher).sum(1)).mean()
    if relation_weight:
        loss = loss + relation_weight * F.mse_loss(student @ student.T, teacher @ teacher.T)
    return loss
