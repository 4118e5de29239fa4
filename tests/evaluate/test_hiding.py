import json

import pytest

from imn_export.evaluate.hiding import evaluate_pairs, folder_pairs, select_images
from imn_export.io import read_rgb
from imn_export.nn.hiding import HidingConfig, HidingNetwork


def test_pairing_rule_wraps_around(tiny_faces):
    pairs = folder_pairs(select_images(tiny_faces, limit=3))
    assert [(p.name, m.name) for p, m in pairs] == [
        ("0000.png", "0001.png"), ("0001.png", "0002.png"), ("0002.png", "0000.png")]


def test_val_split_selection(tiny_faces):
    assert [p.name for p in select_images(tiny_faces, "val")] == ["0000.png", "0013.png"]
    with pytest.raises(ValueError, match="split"):
        select_images(tiny_faces, "test")


def test_fresh_network_eval_contract_and_png_round_trip(tiny_faces, tmp_path):
    # A fresh network leaves the Mask untouched and hides nothing: masked == Mask exactly,
    # and revealing from aux = 0 gives a black face. The evaluation must measure exactly that.
    net = HidingNetwork(HidingConfig(blocks=2, depth=2, growth=4)).eval()
    pairs = folder_pairs(select_images(tiny_faces, limit=4))
    results = evaluate_pairs(net, pairs, save_dir=tmp_path / "masked", figure=tmp_path / "fig.png",
                             figure_count=2, progress=False)
    assert results["n"] == 4 and len(results["images"]) == 4
    assert set(results["mean"]) == {"recovered", "masked"}
    assert set(results["mean"]["recovered"]) == {"psnr", "ssim", "rmse", "mae"}
    assert results["mean"]["masked"]["mae"] == 0.0
    protected = read_rgb(pairs[0][0]).astype(float)
    assert results["images"][0]["recovered"]["mae"] == pytest.approx(protected.mean(), abs=1e-9)
    assert read_rgb(tmp_path / "fig.png").shape == (18 + 2 * 32, 6 * 32, 3)
    assert len(list((tmp_path / "masked").glob("*.png"))) == 4
    json.dumps(results)  # machine-readable as is
