"""The shipped default hiding network meets its quality floors, measured the way users meet it:
masked face written as an 8-bit PNG, read back, revealed (issue #2 floors)."""

import pytest

from imn_export.evaluation import evaluate_pairs, folder_pairs, select_images
from imn_export.train.checkpoint import load_hiding_network

FLOORS = {"recovered": {"psnr": 38.0, "ssim": 0.95}, "masked": {"psnr": 36.0, "ssim": 0.95}}
SUBSET = 16  # fixed: the first 16 images of each set, by name


def _assert_floors(results):
    for part, floors in FLOORS.items():
        for metric, floor in floors.items():
            value = results["mean"][part][metric]
            assert value >= floor, f"{part} {metric} {value:.4f} below the floor {floor}"


@pytest.fixture(scope="module")
def shipped(shipped_weights):
    return load_hiding_network(shipped_weights)


@pytest.mark.data
def test_floors_on_validation_faces(shipped, faces_dir):
    net, meta = shipped
    pairs = folder_pairs(select_images(faces_dir, "val", SUBSET))
    _assert_floors(evaluate_pairs(net, pairs, meta["aux"]["kind"], progress=False))


@pytest.mark.data
def test_floors_on_real_faces(shipped, real_faces_dir):
    net, meta = shipped
    pairs = folder_pairs(select_images(real_faces_dir, "all", SUBSET))
    _assert_floors(evaluate_pairs(net, pairs, meta["aux"]["kind"], progress=False))
