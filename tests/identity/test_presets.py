import numpy as np
import pytest
import torch

from imn_export.identity.presets import (choose_preset_faces, load_presets, make_presets,
                                         preset_info)
from imn_export.nn.identity_encoder import IdentityEncoder, IdentityEncoderConfig


@pytest.fixture()
def labelled_faces(tiny_faces):
    groups = ["female,asian", "male,black"]
    rows = ["file,gender,ethnicity"] + [f"{p.name},{groups[i % 2]}"
                                        for i, p in enumerate(sorted(tiny_faces.iterdir()))]
    (tiny_faces / "labels.csv").write_text("\n".join(rows) + "\n")
    return tiny_faces


def test_presets_come_from_the_validation_split_of_each_group(labelled_faces):
    chosen = choose_preset_faces(labelled_faces, per_group=1)
    assert [p.name for p in chosen] == ["0000.png", "0013.png"]  # val = index 0 and 13


def test_make_and_load_presets(labelled_faces, tmp_path):
    torch.manual_seed(0)
    encoder = IdentityEncoder(IdentityEncoderConfig(input_size=32, widths=(8, 8, 8, 8))).eval()
    npy, _ = make_presets(encoder, labelled_faces, tmp_path / "out", per_group=1)
    vectors = load_presets(npy)
    assert vectors.shape == (2, 128) and vectors.dtype == np.float32
    info = preset_info(npy)
    assert [p["source_image"] for p in info["presets"]] == ["0000.png", "0013.png"]


@pytest.mark.parametrize("bad, message", [(np.zeros(4, np.float32), "(K, D)"),
                                          (np.ones((2, 4), np.float64), "float32"),
                                          (np.ones((2, 4), np.float32), "unit")])
def test_bad_presets_are_refused(tmp_path, bad, message):
    path = tmp_path / "identities.npy"
    np.save(path, bad)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_presets(path)


def test_shipped_presets_are_valid():
    from imn_export.weights import MODELS_DIR
    path = MODELS_DIR / "identities.npy"
    assert path.is_file(), f"shipped presets missing: {path}"
    vectors = load_presets(path)
    assert vectors.shape[0] >= 16
    assert len(preset_info(path)["presets"]) == vectors.shape[0]
