import numpy as np
import pytest

from imn_sdk.align import TEMPLATE, aligned_crop, crop_transform, face_alpha, invert, paste_back, similarity


def test_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (5, 2))
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -4.0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = similarity(src, src @ rotation.T + shift)
    np.testing.assert_allclose(matrix[:, :2], rotation, atol=1e-9)
    np.testing.assert_allclose(matrix[:, 2], shift, atol=1e-9)
    np.testing.assert_allclose(invert(invert(matrix)), matrix, atol=1e-9)


def test_crop_of_a_face_at_the_template_is_the_identity():
    size = 64
    image = np.random.default_rng(1).integers(0, 256, (size, size, 3), dtype=np.uint8)
    to_crop = crop_transform(TEMPLATE * size, size)
    np.testing.assert_allclose(to_crop, [[1, 0, 0], [0, 1, 0]], atol=1e-9)
    assert np.abs(aligned_crop(image, to_crop, size).astype(int) - image).max() <= 1


def test_paste_back_changes_nothing_outside_the_limit():
    photo = np.full((100, 120, 3), 90, np.uint8)
    crop = np.full((32, 32, 3), 200, np.uint8)
    to_crop = crop_transform(TEMPLATE * 60 + 20, 32)
    out, touched = paste_back(photo, crop, to_crop, limit=(30, 30, 70, 70))
    outside = np.ones(photo.shape[:2], bool)
    outside[30:70, 30:70] = False
    assert np.array_equal(out[outside], photo[outside])
    assert (out[50, 50] > 150).all() and touched[0] >= 30 and touched[2] <= 70


def test_face_alpha_is_one_inside_zero_at_the_corners():
    alpha = face_alpha(64)
    assert alpha[35, 31] == 1 and alpha[0, 0] == 0 and alpha.min() == 0


@pytest.mark.slow
@pytest.mark.data
def test_template_matches_the_training_faces(bundle, faces_dir):
    from PIL import Image

    from imn_sdk.detect import detect_faces
    marks = [detect_faces(np.asarray(Image.open(p).convert("RGB")), bundle.detector, 40)[0].landmarks
             for p in sorted(faces_dir.glob("*.jpg"))[:40]]
    assert np.abs(np.mean(marks, 0) / 256 - TEMPLATE).max() < 0.02


@pytest.mark.parametrize("seed", range(5))
def test_blend_support_from_rounded_landmarks_covers_every_blended_pixel(seed):
    """recover rebuilds the blend from the metadata's landmarks (rounded to 0.1 px): its support
    must contain every pixel paste_back changed, or recover would mix a Mask pixel in."""
    from imn_sdk.align import blend_support

    rng = np.random.default_rng(seed)
    size, photo = 64, rng.integers(0, 256, (160, 200, 3), dtype=np.uint8)
    landmarks = TEMPLATE * rng.uniform(50, 90) + rng.uniform(20, 60, 2) + rng.normal(0, 2, (5, 2))
    crop = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    out, _ = paste_back(photo, crop, crop_transform(landmarks, size))
    changed = (out != photo).any(axis=2)
    support = blend_support([crop_transform(np.round(landmarks, 1), size)], size, (0, 0, 200, 160))
    assert changed.any() and not (changed & ~support).any()
    assert support.mean() < 0.6  # the rest of the photo stays outside


def test_untouched_pixels_mix_masked_and_revealed():
    from imn_sdk.pipeline import UNTOUCHED_MASKED_WEIGHT, _mix_untouched

    size = 64
    landmarks = TEMPLATE * 50 + 10
    masked = np.full((128, 128, 3), 100, np.uint8)
    out = np.full((128, 128, 3), 110, np.uint8)
    _mix_untouched(out, masked, (0, 0, 128, 128), [crop_transform(landmarks, size)], size)
    assert out[35, 35].tolist() == [110] * 3  # on the face: the revealed pixel
    assert out[120, 120].tolist() == [round(100 * float(UNTOUCHED_MASKED_WEIGHT) + 110 * (1 - float(UNTOUCHED_MASKED_WEIGHT)))] * 3
