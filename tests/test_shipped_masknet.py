"""The shipped Mask-net keeps its measured floors on real faces, judged by dlib (which we did not
train): landmarks stay put, a face is still found, the identity moves away from the protected one.
The full report on 300 faces is ``imn eval-privacy`` (docs/results/privacy-real.json)."""

import numpy as np
import pytest

from imn_export.evaluate.hiding import select_images
from imn_export.io import read_rgb
from imn_export.verify.quality import MASKNET_FLOORS

pytest.importorskip("dlib", reason="dlib's judge is in the identity extra")

from imn_export.identity.presets import load_presets  # noqa: E402
from imn_export.evaluate.privacy import landmark_error, make_mask  # noqa: E402
from imn_export.identity.teacher import DlibJudge  # noqa: E402
from imn_export.weights import MODELS_DIR, load_masknet  # noqa: E402

SUBSET = 16


@pytest.fixture(scope="module")
def judged(real_faces_dir):
    weights, presets = MODELS_DIR / "imn-masknet.pt", MODELS_DIR / "identities.npy"
    for path in (weights, presets):
        if not path.is_file():
            pytest.fail(f"shipped file missing: {path}")
    masknet, vectors, judge = load_masknet(weights), load_presets(presets), DlibJudge()
    readings = []
    for i, path in enumerate(select_images(real_faces_dir, "all", SUBSET)):
        face = read_rgb(path)
        readings.append((judge.read(face), judge.read(make_mask(masknet, face, vectors[i % len(vectors)]))))
    measured = {
        "landmark_error": float(np.mean([landmark_error(m, p) for p, m in readings])),
        "one_face_detected": float(np.mean([m.faces == 1 for _, m in readings])),
        "distance_to_protected": float(np.mean([np.linalg.norm(m.descriptor - p.descriptor)
                                                for p, m in readings])),
    }
    print(measured)
    return measured


@pytest.mark.slow
@pytest.mark.data
def test_mask_keeps_the_landmarks(judged):
    assert judged["landmark_error"] <= MASKNET_FLOORS["landmark_error_max"], judged


@pytest.mark.slow
@pytest.mark.data
def test_mask_is_still_a_face(judged):
    assert judged["one_face_detected"] >= MASKNET_FLOORS["one_face_detected_min"], judged


@pytest.mark.slow
@pytest.mark.data
def test_mask_moves_away_from_the_protected_identity(judged):
    assert judged["distance_to_protected"] >= MASKNET_FLOORS["distance_to_protected_min"], judged
