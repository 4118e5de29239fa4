"""Mask faces written for the identity encoder to learn from (imn_export/identity/mask_samples.py)."""

import numpy as np
import pytest
import torch

from imn_export.identity.mask_samples import write_mask_samples
from imn_export.io import read_rgb
from imn_export.nn.identity_encoder import IdentityEncoder, IdentityEncoderConfig
from imn_export.nn.masknet import MaskNet, MaskNetConfig


@pytest.fixture()
def nets():
    torch.manual_seed(0)
    masknet = MaskNet(MaskNetConfig(widths=(8, 16, 16), injection_blocks=1, enhancer_width=8,
                                    enhancer_blocks=1, work_size=32))
    return masknet, IdentityEncoder(IdentityEncoderConfig(input_size=32, widths=(8, 8, 8, 8)))


def test_writes_masks_of_training_faces_and_keeps_existing_files(tiny_faces, tmp_path, nets):
    out = tmp_path / "masks"
    paths = write_mask_samples(*nets, tiny_faces, out, count=5, batch=2, progress=False)
    assert len(paths) == 5 and all(p.is_file() for p in paths)
    assert not {"0000.png", "0013.png"} & {p.name for p in paths}  # validation faces stay out
    first = read_rgb(paths[0])
    assert first.shape == (32, 32, 3) and first.std() > 0
    paths[0].write_bytes(b"kept")  # an earlier run's file is not redone
    again = write_mask_samples(*nets, tiny_faces, out, count=5, batch=2, progress=False)
    assert again == paths and paths[0].read_bytes() == b"kept"
    assert np.array_equal(read_rgb(paths[1]), read_rgb(again[1]))


def test_refuses_more_masks_than_training_faces(tiny_faces, tmp_path, nets):
    with pytest.raises(ValueError, match="training faces"):
        write_mask_samples(*nets, tiny_faces, tmp_path / "masks", count=13, progress=False)
