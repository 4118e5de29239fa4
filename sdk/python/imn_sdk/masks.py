"""Masks v2: the Mask face is a donor face of nobody from the bundle's donor bank, colour- and
light-matched to the protected face and feathered over it from brows to chin and cheek to cheek
(sdk/spec/bundle.md, "donors"). Everything happens in the aligned ``(S, S, 3)`` crop, so the 5
anchor points of the donor sit on the template like the face's own. Float32 throughout, the
same order of operations as the Kotlin and Swift SDKs (golden vectors pin it).
"""

from __future__ import annotations

import numpy as np

# The replaced region, in shares of the crop side: a superellipse around the mean face of the
# aligned synthetic faces (dlib's 68 points: cheeks at x 0.24..0.78, brows at y 0.38, chin at
# y 0.91), grown past the jaw so the face's own outline does not show through.
REGION_CENTRE = (0.507, 0.625)
REGION_HALF_WIDTH = 0.285
REGION_HALF_HEIGHT = (0.33, 0.30)   # above, below the centre
REGION_POWER = 2.5                   # > 2: fuller cheeks than an ellipse
REGION_FEATHER = 0.35                # of the radius: the blend fades over r in [1 - F/2, 1 + F/2]
STATS_RADIUS = 0.75                  # colour statistics come from the inner face, r < 0.75
SHADING_BLUR = 0.10                  # box-blur radius (share of the side) of the light transfer
SHADING_LIMITS = (0.6, 1.6)
STD_LIMITS = (0.6, 1.6)


def region_radius(size: int) -> np.ndarray:
    """``(S, S)`` float32: the superellipse radius of each pixel centre (1 on the border)."""
    ys, xs = (np.mgrid[0:size, 0:size].astype(np.float32) + np.float32(0.5)) / np.float32(size)
    dx = np.abs(xs - np.float32(REGION_CENTRE[0])) / np.float32(REGION_HALF_WIDTH)
    half_h = np.where(ys < REGION_CENTRE[1], np.float32(REGION_HALF_HEIGHT[0]), np.float32(REGION_HALF_HEIGHT[1]))
    dy = np.abs(ys - np.float32(REGION_CENTRE[1])) / half_h
    p = np.float32(REGION_POWER)
    return ((dx ** p + dy ** p) ** (np.float32(1) / p)).astype(np.float32)


def region_alpha(size: int) -> np.ndarray:
    """``(S, S)`` float32 in [0, 1]: 1 over the face, fading out over REGION_FEATHER."""
    feather = np.float32(REGION_FEATHER)
    return np.clip((np.float32(1) + feather / 2 - region_radius(size)) / feather, 0, 1).astype(np.float32)


def region_box(size: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the pixels where ``region_alpha`` > 0: the part of a donor that ships."""
    ys, xs = np.nonzero(region_alpha(size) > 0)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """``(..., 3)`` uint8 or float RGB -> float32 YCbCr (BT.601 full range, 0..255)."""
    x = rgb.astype(np.float32)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    y = np.float32(0.299) * r + np.float32(0.587) * g + np.float32(0.114) * b
    cb = np.float32(128) + np.float32(-0.168736) * r + np.float32(-0.331264) * g + np.float32(0.5) * b
    cr = np.float32(128) + np.float32(0.5) * r + np.float32(-0.418688) * g + np.float32(-0.081312) * b
    return np.stack([y, cb, cr], -1)


def from_ycbcr(ycc: np.ndarray) -> np.ndarray:
    """float32 YCbCr -> float32 RGB (not rounded)."""
    y, cb, cr = ycc[..., 0], ycc[..., 1] - np.float32(128), ycc[..., 2] - np.float32(128)
    r = y + np.float32(1.402) * cr
    g = y + np.float32(-0.344136) * cb + np.float32(-0.714136) * cr
    b = y + np.float32(1.772) * cb
    return np.stack([r, g, b], -1)


def weighted_stats(ycc: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation ``(3,)`` float32 of ``ycc (S, S, 3)`` under
    ``weight (S, S)``."""
    w = weight.astype(np.float32)[..., None]
    total = w.sum(dtype=np.float32)
    mean = (ycc * w).sum((0, 1), dtype=np.float32) / total
    var = (((ycc - mean) ** 2) * w).sum((0, 1), dtype=np.float32) / total
    return mean.astype(np.float32), np.sqrt(var).astype(np.float32)


def box_blur(plane: np.ndarray, radius: int) -> np.ndarray:
    """``(S, S)`` float32 mean over a (2r+1)^2 window, edges clamped; rows then columns."""
    if radius <= 0:
        return plane
    def along(a: np.ndarray, axis: int) -> np.ndarray:
        padded = np.concatenate([np.repeat(a.take([0], axis), radius, axis), a,
                                 np.repeat(a.take([-1], axis), radius, axis)], axis)
        cs = np.cumsum(padded, axis=axis, dtype=np.float64)
        zero = np.zeros_like(cs.take([0], axis))
        cs = np.concatenate([zero, cs], axis)
        n = a.shape[axis]
        hi = cs.take(np.arange(2 * radius + 1, 2 * radius + 1 + n), axis)
        lo = cs.take(np.arange(0, n), axis)
        return ((hi - lo) / (2 * radius + 1)).astype(np.float32)
    return along(along(plane, 1), 0)


def compose(face: np.ndarray, donor: np.ndarray) -> np.ndarray:
    """The Mask ``(S, S, 3)`` uint8: ``donor (S, S, 4)`` uint8 (a face of nobody on the template,
    its own face outline as alpha) matched to the colour and light of the aligned
    ``face (S, S, 3)`` uint8 and blended over it inside the region."""
    if (face.ndim != 3 or face.shape[2] != 3 or face.shape[0] != face.shape[1]
            or donor.shape != (*face.shape[:2], 4)):
        raise ValueError(f"expected face (S, S, 3) and donor (S, S, 4), got {face.shape} and {donor.shape}")
    size = face.shape[0]
    radius = region_radius(size)
    feather = np.float32(REGION_FEATHER)
    outline = donor[..., 3].astype(np.float32) / np.float32(255)
    alpha = np.clip((np.float32(1) + feather / 2 - radius) / feather, 0, 1).astype(np.float32) * outline
    inner = (radius < np.float32(STATS_RADIUS)).astype(np.float32)
    if not (inner * outline).any():  # no donor face where it would go: nothing to put there
        return face.copy()
    f, d = to_ycbcr(face), to_ycbcr(donor[..., :3])
    f_mean, f_std = weighted_stats(f, inner)
    d_mean, d_std = weighted_stats(d, inner * outline)
    gain = np.clip(f_std / np.maximum(d_std, np.float32(1)), *STD_LIMITS).astype(np.float32)
    matched = (d - d_mean) * gain + f_mean
    blur = round(SHADING_BLUR * size)
    if blur > 0:
        # Both blurs weighted by the blend, so neither side's background leaks into the light.
        light = (box_blur(alpha * f[..., 0], blur)
                 / np.maximum(box_blur(alpha * matched[..., 0], blur), np.float32(1e-3)))
        matched[..., 0] *= np.clip(light, *SHADING_LIMITS).astype(np.float32)
    rgb = from_ycbcr(matched)
    a = alpha[..., None]
    out = a * rgb + (np.float32(1) - a) * face.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def apparent_male(sex: dict, vectors: np.ndarray) -> np.ndarray:
    """Whether the bundle's linear read of apparent sex (``identity.sex`` of the donors entry)
    calls each unit identity vector ``(N, 128)`` male."""
    return np.asarray(vectors) @ np.asarray(sex["weights"], np.float64) + sex["bias"] > 0


def donor_candidates(unit: np.ndarray, donor_vectors: np.ndarray, sex: dict | None,
                     count: int) -> np.ndarray:
    """sdk/spec/photo.md §3: indices of the ``count`` donors least like the face's unit identity
    vector ``unit (128,)`` (cosine against ``donor_vectors (K, 128)``; sorted by similarity, ties
    by index), among the donors of its apparent sex when ``sex`` is given and has ``count`` of
    them. The caller draws one uniformly.

    Sex first, on a bank with as many donors of each apparent sex (``imn make-donors
    --balance-sex``): on 150 synthetic validation faces the donor's apparent sex then matches the
    face's in 94% of Masks, at 2.7% under dlib's same-person distance; the 8 farthest regardless
    of sex gave 0.0% but matched sex in 18% (``python scripts/donor_choice_val.py``; README,
    "Masks v2")."""
    pool = np.arange(len(donor_vectors))
    if sex is not None:
        same = pool[np.asarray(sex["donor_male"]) == apparent_male(sex, unit[None])[0]]
        pool = same if len(same) >= count else pool
    return pool[np.argsort(donor_vectors[pool] @ unit, kind="stable")[:count]]
