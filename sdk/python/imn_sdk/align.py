"""Five-point similarity alignment between a photo and the Mask-net crop, and the feathered face
mask used to blend the Mask back. Transforms are 2x3 matrices mapping photo (x, y) to crop
(x, y); images are ``(H, W, 3)`` uint8."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

# Mean MTCNN landmarks (left eye, right eye, nose, mouth corners) of 200 faces of
# ../shared/data/faces (the aligned faces Mask-net learned on), as shares of the crop side;
# measured with this SDK's detector (tests/sdk/test_align.py checks it).
TEMPLATE = np.array([[96.50, 119.44], [156.95, 119.51], [124.66, 154.50],
                     [99.18, 182.30], [154.55, 182.60]], np.float64) / 256

# The blended part of the crop: an ellipse over the face, feathered over FEATHER of the side.
ELLIPSE_CENTRE, ELLIPSE_RADII, FEATHER = (0.49, 0.55), (0.34, 0.44), 0.08


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (Umeyama) mapping points ``src (N, 2)`` onto ``dst (N, 2)``;
    returns ``(2, 3)``."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    u, sigma, vt = np.linalg.svd(b.T @ a / len(src))
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ d @ vt
    scale = (sigma * np.diag(d)).sum() / a.var(0).sum()
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = mu_d - matrix[:, :2] @ mu_s
    return matrix


def invert(matrix: np.ndarray) -> np.ndarray:
    full = np.vstack([matrix, [0, 0, 1]])
    return np.linalg.inv(full)[:2]


def crop_transform(landmarks: np.ndarray, size: int) -> np.ndarray:
    """Photo -> crop transform placing ``landmarks (5, 2)`` on the template of a ``size`` crop."""
    return similarity(landmarks, TEMPLATE * size)


def _warp(image: np.ndarray, out_to_in: np.ndarray, width: int, height: int,
          resample=Image.BICUBIC) -> np.ndarray:
    coefficients = tuple(out_to_in.reshape(-1))
    mode = "RGB" if image.ndim == 3 else "F"
    source = Image.fromarray(image if image.ndim == 3 else image.astype(np.float32), mode)
    return np.asarray(source.transform((width, height), Image.AFFINE, coefficients, resample))


def aligned_crop(photo: np.ndarray, to_crop: np.ndarray, size: int) -> np.ndarray:
    """The ``(size, size, 3)`` crop of ``photo`` under ``to_crop``."""
    return _warp(photo, invert(to_crop), size, size)


def face_alpha(size: int) -> np.ndarray:
    """``(size, size)`` float32 in [0, 1]: 1 inside the face ellipse, fading out over FEATHER."""
    ys, xs = (np.mgrid[0:size, 0:size] + 0.5) / size
    r = np.sqrt(((xs - ELLIPSE_CENTRE[0]) / ELLIPSE_RADII[0]) ** 2
                + ((ys - ELLIPSE_CENTRE[1]) / ELLIPSE_RADII[1]) ** 2)
    edge = FEATHER / min(ELLIPSE_RADII)
    return np.clip((1 + edge / 2 - r) / edge, 0, 1).astype(np.float32)


def _footprint(to_crop: np.ndarray, size: int) -> tuple[int, int, int, int]:
    """Photo-space bounds (x0, y0, x1, y1) of the ``size`` crop: its corners mapped back."""
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64)
    back = invert(to_crop)
    mapped = corners @ back[:, :2].T + back[:, 2]
    (x0, y0), (x1, y1) = np.floor(mapped.min(0)).astype(int), np.ceil(mapped.max(0)).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


def _box_to_crop(to_crop: np.ndarray, x0: int, y0: int) -> np.ndarray:
    """Output pixel (u, v) of a box at (x0, y0) is photo (x0 + u, y0 + v): shift, then into the crop."""
    shift = np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64)
    return (np.vstack([to_crop, [0, 0, 1]]) @ shift)[:2]


def blend_box(to_crop: np.ndarray, size: int) -> tuple[float, float, float, float]:
    """Photo-space bounds of the feathered ellipse (where the blend can touch)."""
    t = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    grow = 1 + FEATHER / min(ELLIPSE_RADII)
    points = np.stack([ELLIPSE_CENTRE[0] + grow * ELLIPSE_RADII[0] * np.cos(t),
                       ELLIPSE_CENTRE[1] + grow * ELLIPSE_RADII[1] * np.sin(t)], 1) * size
    back = invert(to_crop)
    mapped = points @ back[:, :2].T + back[:, 2]
    return (*np.floor(mapped.min(0)), *np.ceil(mapped.max(0)))


def blend_support(to_crops: list[np.ndarray], size: int, box: tuple[int, int, int, int],
                  margin: int = 2) -> np.ndarray:
    """``(h, w)`` bool over ``box`` (x0, y0, x1, y1): where any face's blend weight is nonzero,
    grown by ``margin`` pixels (a square max filter), so landmarks rounded in the metadata still
    cover every pixel the blend touched."""
    x0, y0, x1, y1 = box
    touched = np.zeros((y1 - y0, x1 - x0), bool)
    alpha = face_alpha(size)
    for to_crop in to_crops:
        fx0, fy0, fx1, fy1 = _footprint(to_crop, size)
        ax0, ay0, ax1, ay1 = max(fx0, x0), max(fy0, y0), min(fx1, x1), min(fy1, y1)
        if ax1 > ax0 and ay1 > ay0:  # outside its footprint a face's weight is 0 anyway
            weight = _warp(alpha, _box_to_crop(to_crop, ax0, ay0), ax1 - ax0, ay1 - ay0, Image.BILINEAR)
            touched[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0] |= weight > 0
    grown = Image.fromarray(touched.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(2 * margin + 1))
    return np.asarray(grown) > 0


def blend_into(target: np.ndarray, origin: tuple[int, int], crop: np.ndarray, to_crop: np.ndarray,
               limit: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Blend ``crop (S, S, 3)`` through the feathered face ellipse into ``target`` in place:
    ``target`` holds the photo's pixels from ``origin`` (x, y) on (the whole photo, or just a
    hidden region), ``limit`` (x0, y0, x1, y1, photo coordinates) confines the blend. Returns the
    box (photo coordinates) of the pixels the blend touches, (0, 0, 0, 0) when none."""
    size, (ox, oy), (th, tw) = crop.shape[0], origin, target.shape[:2]
    x0, y0, x1, y1 = _footprint(to_crop, size)
    x0, y0 = max(x0, ox, limit[0]), max(y0, oy, limit[1])
    x1, y1 = min(x1, ox + tw, limit[2]), min(y1, oy + th, limit[3])
    if x1 <= x0 or y1 <= y0:
        return 0, 0, 0, 0
    box_to_crop = _box_to_crop(to_crop, x0, y0)
    face = _warp(crop, box_to_crop, x1 - x0, y1 - y0).astype(np.float32)
    alpha = _warp(face_alpha(size), box_to_crop, x1 - x0, y1 - y0, Image.BILINEAR)[..., None]
    view = target[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    view[...] = np.clip(np.rint(view.astype(np.float32) * (1 - alpha) + face * alpha), 0, 255).astype(np.uint8)
    ys, xs = np.nonzero(alpha[..., 0] > 0)
    if not len(ys):
        return 0, 0, 0, 0
    return int(x0 + xs.min()), int(y0 + ys.min()), int(x0 + xs.max() + 1), int(y0 + ys.max() + 1)


def paste_back(photo: np.ndarray, crop: np.ndarray, to_crop: np.ndarray,
               limit: tuple[int, int, int, int] | None = None) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """``blend_into`` a copy of the whole ``photo``; returns it and the touched box."""
    out = photo.copy()
    h, w = photo.shape[:2]
    return out, blend_into(out, (0, 0), crop, to_crop, limit if limit is not None else (0, 0, w, h))
