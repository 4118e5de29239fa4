"""dlib's pretrained face recognizer: the teacher for the identity encoder and the judge of Mask-net.

dlib and its weights are an optional extra (``pip install "imn[identity]"``: ``dlib-bin`` and
``face-recognition-models``); nothing at run time on a phone needs them.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

INSTALL_HINT = 'dlib\'s face recognizer is an optional extra: pip install "imn[identity]"'

# The 68-point layout (iBUG 300-W), reduced to the five points MTCNN-style detectors give.
_LEFT_EYE, _RIGHT_EYE = slice(36, 42), slice(42, 48)
_NOSE_TIP, _MOUTH_LEFT, _MOUTH_RIGHT = 30, 48, 54


def _model_dir() -> Path:
    # face_recognition_models' __init__ imports pkg_resources, which new setuptools dropped;
    # find_spec locates the package without running it.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(INSTALL_HINT)
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@dataclass
class FaceReading:
    """What dlib sees in one image."""

    faces: int                     # frontal faces the HOG detector found
    descriptor: np.ndarray         # (128,) float32, of the largest face (or of the whole crop)
    landmarks: np.ndarray          # (5, 2) float32 x, y: eyes, nose tip, mouth corners
    face_width: float              # jaw corner to jaw corner (68-point 0 to 16), pixels


class DlibJudge:
    """dlib's HOG face detector, 68-point landmarks and ResNet descriptor (LFW 99.38%)."""

    # dlib's own same-person threshold on descriptor distance.
    SAME_PERSON_DISTANCE = 0.6

    def __init__(self, upsample: int = 1):
        try:
            import dlib
        except ImportError as error:
            raise ImportError(INSTALL_HINT) from error
        models = _model_dir()
        self._dlib = dlib
        self.upsample = upsample
        self.detector = dlib.get_frontal_face_detector()
        self.landmarker = dlib.shape_predictor(str(models / "shape_predictor_68_face_landmarks.dat"))
        self.recognizer = dlib.face_recognition_model_v1(
            str(models / "dlib_face_recognition_resnet_model_v1.dat"))

    @cached_property
    def weights_note(self) -> str:
        return "dlib_face_recognition_resnet_model_v1 + shape_predictor_68 (face-recognition-models)"

    def read(self, rgb: np.ndarray) -> FaceReading:
        """Detect, landmark and describe ``rgb`` ``(H, W, 3)`` uint8.

        An aligned crop where the detector finds nothing is described over the whole crop, so
        every image gets a descriptor; ``faces`` says whether that happened.
        """
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        boxes = list(self.detector(rgb, self.upsample))
        if boxes:
            box = max(boxes, key=lambda r: r.width() * r.height())
        else:
            h, w = rgb.shape[:2]
            box = self._dlib.rectangle(w // 8, h // 8, w - w // 8, h - h // 8)
        shape = self.landmarker(rgb, box)
        points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
        five = np.stack([points[_LEFT_EYE].mean(0), points[_RIGHT_EYE].mean(0), points[_NOSE_TIP],
                         points[_MOUTH_LEFT], points[_MOUTH_RIGHT]])
        descriptor = np.asarray(self.recognizer.compute_face_descriptor(rgb, shape), np.float32)
        return FaceReading(len(boxes), descriptor, five, float(np.linalg.norm(points[16] - points[0])))
