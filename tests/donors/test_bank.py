import numpy as np

from imn_export.donors.bank import RIM_INSET, fill_rim


def _disk(size: int, radius: float) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    return np.hypot(xs - size / 2, ys - size / 2) < radius


def test_fill_rim_keeps_the_face_and_spreads_its_skin_over_the_rim():
    size = 128
    face = _disk(size, 40)
    rgb = np.where(face[..., None], np.array([200, 150, 120], np.uint8), np.array([20, 30, 200], np.uint8))
    rgb = rgb.astype(np.uint8)
    alpha = (face * 255).astype(np.uint8)
    out = fill_rim(rgb, alpha)
    deep = _disk(size, 40 - RIM_INSET * size - 2)
    assert np.array_equal(out[deep], rgb[deep])                 # the face itself is untouched
    rim = _disk(size, 44) & ~_disk(size, 40 - RIM_INSET * size)  # just inside and outside the outline
    assert np.abs(out[rim].astype(int) - [200, 150, 120]).max() <= 2   # skin, not background
