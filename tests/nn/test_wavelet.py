import pytest
import torch

from imn_export.nn.wavelet import haar_dwt, haar_iwt, low_frequency


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-6), (torch.float64, 1e-14)])
@pytest.mark.parametrize("shape", [(1, 3, 2, 2), (2, 3, 64, 96), (1, 5, 30, 18)])
def test_iwt_inverts_dwt_exactly(shape, dtype, tol):
    x = torch.rand(shape, dtype=dtype)
    assert (haar_iwt(haar_dwt(x)) - x).abs().max() <= tol
    y = torch.randn((shape[0], 4 * shape[1], shape[2] // 2, shape[3] // 2), dtype=dtype)
    assert (haar_dwt(haar_iwt(y)) - y).abs().max() <= tol


def test_dwt_shape_and_subbands():
    x = torch.rand(2, 3, 8, 6)
    y = haar_dwt(x)
    assert y.shape == (2, 12, 4, 3)
    # LL is twice the 2x2 mean (orthonormal Haar), first in the channel layout.
    mean = torch.nn.functional.avg_pool2d(x, 2)
    assert torch.allclose(y[:, :3], 2 * mean, atol=1e-6)
    assert torch.allclose(low_frequency(x), 2 * mean, atol=1e-6)


def test_dwt_preserves_energy():
    x = torch.randn(1, 3, 16, 16, dtype=torch.float64)
    assert torch.allclose(haar_dwt(x).pow(2).sum(), x.pow(2).sum())


def test_checkerboard_is_pure_high_frequency():
    board = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2
    x = board.float().expand(1, 3, 8, 8)
    y = haar_dwt(x)
    assert y[:, 9:].abs().min() > 0.99  # HH carries it all
    assert torch.allclose(y[:, :3], torch.ones_like(y[:, :3]))  # LL is the flat mean


@pytest.mark.parametrize("shape", [(1, 3, 7, 8), (1, 3, 8, 9)])
def test_dwt_rejects_odd_sizes(shape):
    with pytest.raises(ValueError, match="even"):
        haar_dwt(torch.rand(shape))


def test_iwt_rejects_channel_count_not_multiple_of_four():
    with pytest.raises(ValueError, match="4C"):
        haar_iwt(torch.rand(1, 6, 4, 4))
