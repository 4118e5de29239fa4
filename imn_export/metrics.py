"""PSNR, SSIM, RMSE and MAE as the paper reports them, on the 0-255 scale.

One implementation used everywhere. SSIM is scikit-image's (Wang et al. 2004 settings:
Gaussian window sigma 1.5, population covariance), computed per channel and averaged.
"""

from __future__ import annotations

import math

import numpy as np
from skimage.metrics import structural_similarity

METRIC_NAMES = ("psnr", "ssim", "rmse", "mae")
# Identical images have infinite PSNR; JSON cannot hold that, so the MSE is floored here.
_MIN_MSE = 1e-10


def _as_255(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image.astype(np.float64)
    raise TypeError(f"metrics take (H, W, 3) uint8 images (0-255), got {image.dtype}")


def _check_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = _as_255(a), _as_255(b)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    return a, b


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = _check_pair(a, b)
    mse = max(float(np.mean((a - b) ** 2)), _MIN_MSE)
    return 10.0 * math.log10(255.0 ** 2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    a, b = _check_pair(a, b)
    return float(structural_similarity(a, b, data_range=255.0, channel_axis=-1,
                                       gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False))


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    a, b = _check_pair(a, b)
    return float(np.sqrt(np.mean((a - b) ** 2)))


def mae(a: np.ndarray, b: np.ndarray) -> float:
    a, b = _check_pair(a, b)
    return float(np.mean(np.abs(a - b)))


def image_metrics(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """All four metrics for two ``(H, W, 3)`` uint8 images."""
    return {"psnr": psnr(a, b), "ssim": ssim(a, b), "rmse": rmse(a, b), "mae": mae(a, b)}


def mean_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    return {name: float(np.mean([row[name] for row in rows])) for name in METRIC_NAMES}
