import numpy as np
import pytest

pytest.importorskip("dlib", reason="dlib's recognizer is the identity extra: pip install 'imn[identity]'")

from imn_export.identity.teacher import DlibJudge  # noqa: E402


@pytest.fixture(scope="module")
def judge() -> DlibJudge:
    return DlibJudge()


@pytest.fixture(scope="module")
def astronaut_face() -> np.ndarray:
    from skimage.data import astronaut
    return np.ascontiguousarray(astronaut()[20:276, 110:366])  # Eileen Collins' face, 256x256


def test_finds_one_face_with_landmarks_inside_it(judge, astronaut_face):
    reading = judge.read(astronaut_face)
    assert reading.faces == 1
    assert reading.descriptor.shape == (128,)
    left_eye, right_eye, nose, mouth_left, mouth_right = reading.landmarks
    assert left_eye[0] < right_eye[0] and max(left_eye[1], right_eye[1]) < nose[1] < mouth_left[1]
    assert 40 < reading.face_width < 256


def test_same_person_close_other_image_far(judge, astronaut_face):
    same = judge.read(astronaut_face).descriptor
    mirrored = judge.read(astronaut_face[:, ::-1]).descriptor
    assert np.linalg.norm(same - mirrored) < DlibJudge.SAME_PERSON_DISTANCE


def test_no_face_still_gets_a_descriptor(judge):
    from skimage.data import coffee
    reading = judge.read(np.ascontiguousarray(coffee()[:256, :256]))
    assert reading.faces == 0 and np.isfinite(reading.descriptor).all()
