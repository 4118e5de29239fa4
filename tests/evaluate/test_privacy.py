import numpy as np
import pytest

from imn_export.evaluate.privacy import landmark_error, nearest_is_self
from imn_export.identity.teacher import FaceReading


def _reading(points, width=100.0):
    return FaceReading(1, np.zeros(128, np.float32), np.asarray(points, np.float32), width)


def test_landmark_error_is_a_share_of_face_width():
    base = np.zeros((5, 2))
    moved = base + [3.0, 4.0]  # 5 px each
    assert landmark_error(_reading(moved), _reading(base, width=100)) == pytest.approx(0.05)


def test_nearest_is_self_counts_only_true_matches():
    gallery = np.eye(4, 128)
    query = gallery.copy()
    query[2] = gallery[3] + 0.01  # face 2 now looks like face 3
    assert nearest_is_self(query, gallery).tolist() == [True, True, False, True]


def test_donor_masks_with_an_encoder_need_the_banks_entry():
    """A bank whose rims were filled cannot be read from its pixels: its entry keeps the vectors."""
    import numpy as np
    import torch

    from imn_export.evaluate.privacy import donor_masks

    with pytest.raises(ValueError, match="bank="):
        donor_masks(np.zeros((2, 32, 32, 4), np.uint8), encoder=torch.nn.Identity())
