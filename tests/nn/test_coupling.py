import pytest
import torch

from imn_export.nn.coupling import DenseBlock, InvertibleBlock

ROUND_TRIP_TOL = {torch.float32: 1e-5, torch.float64: 1e-12}


def _randomize(module: torch.nn.Module, std: float = 0.05) -> None:
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, std)


def test_dense_block_shape_and_zero_start():
    block = DenseBlock(12, 12, depth=4, growth=8)
    x = torch.randn(2, 12, 10, 6)
    out = block(x)
    assert out.shape == (2, 12, 10, 6)
    assert out.abs().max() == 0  # last conv starts at zero


def test_dense_block_rejects_depth_one():
    with pytest.raises(ValueError, match="depth"):
        DenseBlock(12, 12, depth=1)


def test_fresh_block_is_identity():
    block = InvertibleBlock(12, depth=3, growth=8)
    mask, prot = torch.randn(1, 12, 8, 8), torch.randn(1, 12, 8, 8)
    out_mask, out_prot = block(mask, prot)
    assert torch.equal(out_mask, mask) and torch.equal(out_prot, prot)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_block_forward_inverse_round_trip(dtype):
    torch.manual_seed(0)
    block = InvertibleBlock(12, depth=3, growth=8).to(dtype)
    _randomize(block)
    mask, prot = torch.randn(2, 12, 8, 8, dtype=dtype), torch.randn(2, 12, 8, 8, dtype=dtype)
    y_mask, y_prot = block(mask, prot)
    assert (y_mask - mask).abs().max() > 1e-3  # the block really transforms
    x_mask, x_prot = block.inverse(y_mask, y_prot)
    tol = ROUND_TRIP_TOL[dtype]
    assert (x_mask - mask).abs().max() <= tol
    assert (x_prot - prot).abs().max() <= tol


def test_scale_is_clamped():
    block = InvertibleBlock(12, depth=2, growth=4, clamp=2.0)
    with torch.no_grad():
        block.rho.out.bias.fill_(1e6)  # saturate the sigmoid
    log_scale = block._log_scale(torch.zeros(1, 12, 4, 4))
    assert torch.allclose(log_scale, torch.full_like(log_scale, 2.0))
