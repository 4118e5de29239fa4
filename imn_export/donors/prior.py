"""A PCA appearance model of aligned faces, and donor faces of nobody sampled from it.

A random point of the model is a weighted mix of every training face, so it shows no one of
them; ``nearest_training_distance`` checks that with dlib before a donor ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from imn_export.io import read_rgb


@dataclass
class FacePrior:
    """``mean (D,)`` and ``basis (K, D)`` (orthonormal rows) over flattened ``(S, S, 3)`` images
    in [0, 1], ``std (K,)`` the training coefficients' spread."""

    size: int
    mean: np.ndarray
    basis: np.ndarray
    std: np.ndarray

    def explained(self, total_variance: float) -> float:
        return float((self.std ** 2).sum() / total_variance)

    def decode(self, coefficients: np.ndarray) -> np.ndarray:
        """``(N, K)`` coefficients -> ``(N, S, S, 3)`` uint8 images."""
        flat = self.mean + coefficients @ self.basis
        return np.clip(np.rint(flat * 255), 0, 255).astype(np.uint8).reshape(-1, self.size, self.size, 3)


def load_flat(paths: list[Path], size: int, progress: bool = True) -> np.ndarray:
    """``(N, S*S*3)`` float32 in [0, 1] of the images at ``paths``, resized to ``size``."""
    from PIL import Image

    out = np.empty((len(paths), size * size * 3), np.float32)
    for i, path in enumerate(tqdm(paths, desc="loading faces", unit="img", disable=not progress)):
        rgb = read_rgb(path)
        if rgb.shape[0] != size:
            rgb = np.asarray(Image.fromarray(rgb).resize((size, size), Image.LANCZOS))
        out[i] = rgb.reshape(-1) / np.float32(255)
    return out


def fit_prior(flat: np.ndarray, components: int, size: int) -> tuple[FacePrior, float]:
    """PCA through the Gram matrix (N << D). Returns the prior and the data's total variance."""
    mean = flat.mean(0)
    centred = flat - mean
    gram = (centred @ centred.T).astype(np.float64) / len(flat)
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1][:components]
    values, vectors = values[order], vectors[:, order]
    basis = (vectors.T.astype(np.float32) @ centred) / np.sqrt(values * len(flat)).astype(np.float32)[:, None]
    total = float(np.trace(gram))
    return FacePrior(size, mean, basis.astype(np.float32), np.sqrt(values).astype(np.float32)), total


def sample_coefficients(prior: FacePrior, count: int, seed: int, temperature: float = 0.8) -> np.ndarray:
    """``(count, K)`` Gaussian coefficients with the training spread times ``temperature``."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((count, len(prior.std))).astype(np.float32) * prior.std * temperature
