"""Orthonormal Haar wavelet transform, batch-first.

Built from ``pixel_unshuffle``/``pixel_shuffle`` and a fixed 1x1 convolution, because those ops
convert to ONNX (SpaceToDepth/DepthToSpace), Core ML and TFLite and stay int8 under PT2E
quantization (a ``conv_transpose`` IWT would not).

Channel layout of the transform follows HiNet: subband-major ``[LL, HL, LH, HH]``, each block
holding the C input channels, so ``y[:, :C]`` is the low-frequency band.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

# Rows: LL, HL, LH, HH; columns: the 2x2 pixel positions in pixel_unshuffle order
# (top-left, top-right, bottom-left, bottom-right). Orthonormal, so its inverse is its transpose.
_HAAR_ROWS = (
    (0.5, 0.5, 0.5, 0.5),
    (-0.5, 0.5, -0.5, 0.5),
    (-0.5, -0.5, 0.5, 0.5),
    (0.5, -0.5, -0.5, 0.5),
)


@functools.lru_cache(maxsize=None)
def _haar_rows(channels: int) -> tuple[tuple[float, ...], ...]:
    # Plain Python numbers, so a traced graph sees one constant instead of eye/einsum/matmul
    # ops (torch.eye lowers to an iota that the LiteRT runtime cannot run).
    # weight[s*C + c, c'*4 + k] = haar[s, k] * [c == c']
    return tuple(
        tuple(_HAAR_ROWS[s][k] if c == c_in else 0.0 for c_in in range(channels) for k in range(4))
        for s in range(4) for c in range(channels)
    )


def _haar_kernel(channels: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """1x1 conv weight ``(4C, 4C, 1, 1)`` from pixel-major ``c*4 + k`` to subband-major ``s*C + c``."""
    return torch.tensor(_haar_rows(channels), dtype=dtype, device=device)[:, :, None, None]


def _check_even(x: torch.Tensor, name: str) -> None:
    if x.dim() != 4:
        raise ValueError(f"{name} must be a (B, C, H, W) tensor, got shape {tuple(x.shape)}")
    if x.shape[-2] % 2 or x.shape[-1] % 2:
        raise ValueError(f"{name} height and width must be even, got {tuple(x.shape[-2:])}")


def haar_dwt(x: torch.Tensor) -> torch.Tensor:
    """One level of the 2-D Haar transform.

    Args:
        x: ``(B, C, H, W)`` with H and W even.

    Returns:
        ``(B, 4C, H/2, W/2)``, subbands ``[LL, HL, LH, HH]`` along channels.
    """
    _check_even(x, "haar_dwt input")
    channels = x.shape[1]
    return F.conv2d(F.pixel_unshuffle(x, 2), _haar_kernel(channels, x.dtype, x.device))


def haar_iwt(y: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`haar_dwt`: ``(B, 4C, h, w) -> (B, C, 2h, 2w)``, exact to float rounding."""
    if y.dim() != 4 or y.shape[1] % 4:
        raise ValueError(f"haar_iwt input must be (B, 4C, h, w), got shape {tuple(y.shape)}")
    channels = y.shape[1] // 4
    kernel = _haar_kernel(channels, y.dtype, y.device)
    return F.pixel_shuffle(F.conv2d(y, kernel.transpose(0, 1)), 2)


def low_frequency(x: torch.Tensor) -> torch.Tensor:
    """Haar LL subband of an image: ``(B, C, H, W) -> (B, C, H/2, W/2)``."""
    return haar_dwt(x)[:, : x.shape[1]]
