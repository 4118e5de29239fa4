"""A small ONNX bundle (64-px tiles, with Mask-net and the detector) shared by the SDK tests."""

import importlib.util

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
# find_spec, not import: the mtcnn package imports TensorFlow, we only read its weight files.
if importlib.util.find_spec("mtcnn") is None:
    pytest.skip("the detector's weights come from the mtcnn package (export extra)", allow_module_level=True)

TILE = 64


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory):
    from imn_export.export.exporter import ExportOptions, export_bundle
    from imn_export.weights import MODELS_DIR

    if not (MODELS_DIR / "imn-masknet.pt").is_file():
        pytest.fail("shipped Mask-net weights missing: models/imn-masknet.pt")
    out = tmp_path_factory.mktemp("sdk-bundle")
    export_bundle(ExportOptions(targets="onnx", precisions="fp32", size=TILE, out=str(out),
                                checks=1, progress=False), log=lambda _: None)
    return out


@pytest.fixture(scope="session")
def bundle(bundle_dir):
    from imn_sdk import Bundle
    return Bundle(bundle_dir)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data
    return data.astronaut()
