"""Masks v2's composite (sdk/python/imn_sdk/masks.py): deterministic, confined to the region and
the donor's outline, matched to the face's colour, and the shipped bank as every SDK reads it."""

import numpy as np
import pytest

from imn_sdk import masks
from imn_sdk.golden import _pattern_u8


def _donor(size: int, outline: int = 255, seed: float = 13.0) -> np.ndarray:
    return np.dstack([_pattern_u8(size, size, seed), np.full((size, size, 1), outline, np.uint8)])


def test_compose_is_deterministic():
    face = _pattern_u8(64, 64, 11.0)
    first, again = masks.compose(face, _donor(64)), masks.compose(face.copy(), _donor(64))
    assert first.dtype == np.uint8 and first.shape == (64, 64, 3)
    assert np.array_equal(first, again)


def test_outside_the_region_and_the_outline_the_face_is_untouched():
    face = _pattern_u8(64, 64, 11.0)
    alpha = masks.region_alpha(64)
    mask = masks.compose(face, _donor(64))
    assert np.array_equal(mask[alpha == 0], face[alpha == 0])
    assert not np.array_equal(mask[alpha == 1], face[alpha == 1])
    # A donor whose outline is empty leaves the whole face as it is.
    assert np.array_equal(masks.compose(face, _donor(64, outline=0)), face)


def test_region_covers_brows_to_chin_and_cheek_to_cheek():
    alpha = masks.region_alpha(256)
    # Fully replaced at the template's eyes, nose and mouth corners, and at the mean face's
    # brows (y 0.39), chin (y 0.86) and cheeks (x 0.30 / 0.71 at y 0.62) of the aligned faces.
    for x, y in [(0.377, 0.467), (0.613, 0.467), (0.487, 0.604), (0.387, 0.712), (0.604, 0.713),
                 (0.36, 0.39), (0.64, 0.39), (0.50, 0.86), (0.30, 0.62), (0.71, 0.62)]:
        assert alpha[int(y * 256), int(x * 256)] > 0.99, (x, y)
    # ... and nothing at the crop's corners (hair, background).
    assert alpha[:20, :20].max() == 0 and alpha[-20:, -20:].max() == 0


def test_colour_is_matched_to_the_face():
    face = np.full((64, 64, 3), (150, 110, 90), np.uint8)
    donor = np.dstack([np.full((64, 64, 3), (210, 180, 170), np.uint8), np.full((64, 64, 1), 255, np.uint8)])
    mask = masks.compose(face, donor)
    inner = masks.region_radius(64) < masks.STATS_RADIUS
    assert np.abs(mask[inner].astype(int) - face[inner].astype(int)).max() <= 1


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="expected face"):
        masks.compose(np.zeros((64, 64, 3), np.uint8), np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="expected face"):
        masks.compose(np.zeros((64, 32, 3), np.uint8), np.zeros((64, 32, 4), np.uint8))


def test_box_blur_is_a_clamped_mean():
    plane = np.arange(25, dtype=np.float32).reshape(5, 5)
    blurred = masks.box_blur(plane, 1)
    assert blurred[2, 2] == pytest.approx(plane[1:4, 1:4].mean())
    padded = np.pad(plane, 1, mode="edge")
    assert blurred[0, 0] == pytest.approx(padded[0:3, 0:3].mean())
    assert masks.box_blur(plane, 0) is plane


def test_shipped_bank_reads_as_the_spec_says():
    from imn_export.donors.bank import manifest_entry, read_bank
    from imn_export.weights import MODELS_DIR

    entry = manifest_entry(MODELS_DIR)
    donors = read_bank(MODELS_DIR)
    assert donors.shape == (entry["count"], 256, 256, 4) and entry["count"] >= 32
    x0, y0, x1, y1 = entry["box"]
    assert (x0, y0, x1, y1) == masks.region_box(256)
    assert donors[:, :y0].max() == 0 and donors[:, :, :x0].max() == 0
    # Every outline covers the inner face, so the region is a donor's face, not the protected one.
    inner = masks.region_radius(256) < 0.6
    assert (donors[..., 3][:, inner] > 200).mean() > 0.95
