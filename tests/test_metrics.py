import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from imn_export.metrics import image_metrics, mae, mean_metrics, psnr, rmse, ssim


@pytest.fixture()
def pair():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-6, 7, a.shape), 0, 255).astype(np.uint8)
    return a, b


def test_psnr_matches_scikit_image(pair):
    a, b = pair
    assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255), rel=1e-9)


def test_known_values_on_0_255_scale():
    a = np.full((8, 8, 3), 100, np.uint8)
    b = a + 1
    assert rmse(a, b) == pytest.approx(1.0) and mae(a, b) == pytest.approx(1.0)
    assert psnr(a, b) == pytest.approx(20 * np.log10(255), rel=1e-9)  # 48.13 dB


def test_ssim_identity_and_ordering(pair):
    a, b = pair
    assert ssim(a, a) == pytest.approx(1.0)
    worse = np.clip(a.astype(int) + 40, 0, 255).astype(np.uint8)
    assert ssim(a, b) > ssim(a, worse)


def test_identical_images_give_a_finite_psnr():
    a = np.zeros((4, 4, 3), np.uint8)
    assert np.isfinite(psnr(a, a))


def test_metrics_reject_float_input_and_shape_mismatch():
    with pytest.raises(TypeError, match="uint8"):
        psnr(np.zeros((4, 4, 3)), np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="shape"):
        mae(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 6, 3), np.uint8))


def test_mean_metrics(pair):
    a, b = pair
    rows = [image_metrics(a, a), image_metrics(a, b)]
    assert mean_metrics(rows)["mae"] == pytest.approx(mae(a, b) / 2)
