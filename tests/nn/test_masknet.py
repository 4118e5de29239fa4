import pytest
import torch
import torch.nn.functional as F

from imn_export.nn.masknet import (AdaIN, MaskNet, MaskNetConfig, PatchDiscriminator,
                                   adaptive_instance_norm)

SMALL = MaskNetConfig(widths=(8, 16, 24), injection_blocks=2, enhancer_width=8, enhancer_blocks=1,
                      identity_dim=16, work_size=32)


def _identity(batch: int, dim: int = 16, seed: int = 0) -> torch.Tensor:
    return F.normalize(torch.randn(batch, dim, generator=torch.Generator().manual_seed(seed)), dim=1)


def test_adaptive_instance_norm_sets_the_statistics():
    x = torch.randn(2, 4, 8, 8) * 3 + 5
    scale, shift = torch.full((2, 4), 0.5), torch.full((2, 4), -1.0)
    y = adaptive_instance_norm(x, scale, shift)
    assert torch.allclose(y.mean(dim=(2, 3)), shift, atol=1e-4)
    assert torch.allclose(y.std(dim=(2, 3), unbiased=False), 1 + scale, atol=1e-3)


def test_adain_starts_as_plain_instance_norm():
    norm = AdaIN(4, 16)
    x = torch.randn(2, 4, 8, 8)
    assert torch.allclose(norm(x, _identity(2)), F.instance_norm(x), atol=1e-5)


@pytest.mark.parametrize("side", [32, 64, 48])
def test_masknet_keeps_the_face_size_and_range(side):
    net = MaskNet(SMALL).eval()
    mask = net(torch.rand(2, 3, side, side), _identity(2))
    assert mask.shape == (2, 3, side, side)
    assert mask.min() >= 0 and mask.max() <= 1


def test_the_identity_vector_changes_the_mask():
    torch.manual_seed(0)
    net = MaskNet(SMALL).eval()
    for module in net.modules():  # AdaIN starts neutral; give it some identity dependence
        if isinstance(module, AdaIN):
            torch.nn.init.normal_(module.style.weight, std=0.5)
    face = torch.rand(1, 3, 32, 32)
    a, b = net(face, _identity(1, seed=1)), net(face, _identity(1, seed=2))
    assert (a - b).abs().mean() > 1e-3


def test_patch_discriminator_gives_patch_logits_and_features():
    logits, features = PatchDiscriminator(width=8)(torch.rand(2, 3, 32, 32))
    assert logits.shape == (2, 1, 4, 4)
    assert [f.shape[1] for f in features] == [8, 16, 32]
