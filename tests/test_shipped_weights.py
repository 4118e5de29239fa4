"""The shipped default hiding network holds its quality floors, measured the way users meet it:
masked face written as an 8-bit PNG, read back, revealed."""

import pytest

from imn_export.evaluate.hiding import evaluate_pairs, folder_pairs, select_images
from imn_export.weights import load_hiding_network
from imn_export.verify.quality import SHIPPED_FLOORS, TARGETS

SUBSET = 16  # fixed: the first 16 images of each set, by name


def _assert_floors(results, floors):
    for part, metrics in floors.items():
        for metric, floor in metrics.items():
            value = results["mean"][part][metric]
            assert value >= floor, f"{part} {metric} {value:.4f} below the floor {floor}"


@pytest.fixture(scope="module")
def shipped(shipped_weights):
    return load_hiding_network(shipped_weights)


def test_floors_cover_every_target_metric():
    for floors in SHIPPED_FLOORS.values():
        assert {part: set(m) for part, m in floors.items()} == {part: set(m) for part, m in TARGETS.items()}


@pytest.mark.slow
@pytest.mark.data
def test_floors_on_validation_faces(shipped, faces_dir):
    net, meta = shipped
    pairs = folder_pairs(select_images(faces_dir, "val", SUBSET))
    _assert_floors(evaluate_pairs(net, pairs, meta["aux"]["kind"], progress=False),
                   SHIPPED_FLOORS["val"])


@pytest.mark.slow
@pytest.mark.data
def test_floors_on_real_faces(shipped, real_faces_dir):
    net, meta = shipped
    pairs = folder_pairs(select_images(real_faces_dir, "all", SUBSET))
    _assert_floors(evaluate_pairs(net, pairs, meta["aux"]["kind"], progress=False),
                   SHIPPED_FLOORS["real"])


@pytest.mark.slow
@pytest.mark.data
def test_keyed_weights_open_only_with_the_right_key(real_faces_dir):
    """models/imn-inn-keyed.pt on 8 real faces: right key near the keyless figure, wrong key no
    face, masked image within the goal (measured 2026-11-27 on 150 faces: 39.45 dB right, 14.73 dB
    worst wrong, masked 0.19 dB below keyless)."""
    from imn_export.evaluate.keys import evaluate_keys, scrambles_of
    from imn_export.identity.presets import load_presets
    from imn_export.weights import MODELS_DIR, load_masknet

    keyed, meta = load_hiding_network(MODELS_DIR / "imn-inn-keyed.pt")
    keyless, _ = load_hiding_network()
    results = evaluate_keys(keyless, keyed, load_masknet(), load_presets(MODELS_DIR / "identities.npy"),
                            select_images(real_faces_dir, "all", 8), wrong_tries=2, progress=False,
                            scrambles=scrambles_of(meta))
    assert results["mean"]["right_key_recovered"]["psnr"] >= 38.0
    assert results["mean"]["right_key_recovered"]["psnr"] >= results["mean"]["keyless_recovered"]["psnr"] - 1.0
    assert results["wrong_key_psnr"]["max"] <= 15.0
    assert results["mean"]["keyed_masked"]["psnr"] >= results["mean"]["keyless_masked"]["psnr"] - 1.0
