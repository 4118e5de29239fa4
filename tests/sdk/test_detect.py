"""The detector cascade over the bundle's MTCNN graphs (tests mirror sdk/python/imn_sdk/detect.py)."""

import numpy as np
import pytest
import torch

from imn_sdk.detect import detect_faces, nms, scale_pyramid
from tests.conftest import smooth_image


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], float)
    assert sorted(nms(boxes, np.array([0.9, 0.8, 0.7]), 0.5).tolist()) == [0, 2]


def test_pyramid_stops_at_the_cell_size():
    scales = scale_pyramid(100, 200, 20)
    assert scales[0] == pytest.approx(12 / 20) and min(100, 200) * scales[-1] >= 12


def test_astronaut_has_one_face_with_ordered_landmarks(bundle, astronaut):
    faces = detect_faces(astronaut, bundle.detector)
    assert len(faces) == 1
    x1, y1, x2, y2 = faces[0].box
    assert 160 < x1 < 200 and 40 < y1 < 80 and 250 < x2 < 290 and 160 < y2 < 200, faces[0].box
    (lx, ly), (rx, ry), (nx, ny), (mlx, mly), (mrx, mry) = faces[0].landmarks
    assert lx < nx < rx and mlx < mrx and max(ly, ry) < ny < min(mly, mry)


def test_onnx_graphs_find_what_the_torch_port_finds(bundle, astronaut):
    from imn_export.nn.mtcnn import load_mtcnn

    def torch_runner(net):
        def run(x):
            with torch.no_grad():
                return tuple(t.numpy() for t in net(torch.from_numpy(x)))
        return run

    reference = detect_faces(astronaut, {k: torch_runner(v) for k, v in load_mtcnn().items()})
    got = detect_faces(astronaut, bundle.detector)
    assert len(got) == len(reference) == 1
    np.testing.assert_allclose(got[0].landmarks, reference[0].landmarks, atol=1e-2)


def test_no_face_in_a_faceless_picture(bundle):
    assert detect_faces(smooth_image(np.random.default_rng(1), 256), bundle.detector) == []


@pytest.mark.data
def test_finds_one_face_in_real_aligned_photos(bundle, real_faces_dir):
    from PIL import Image
    paths = sorted(real_faces_dir.glob("*.png"))[:50]
    found = [len(detect_faces(np.asarray(Image.open(p).convert("RGB")), bundle.detector, 40)) == 1
             for p in paths]
    # Measured 2026-11-27: 48 of the first 50 (96.5% of the first 200).
    assert np.mean(found) >= 0.94


def _static_graphs(folder, manifest_static, target):
    """Each static graph as a runner returning its outputs in order, loaded by the target's own
    module (Core ML: the MIL evaluator off macOS)."""
    from imn_export.export.detector import static_spec
    from imn_export.export.formats import FORMATS

    graphs = {}
    for name, g in manifest_static["targets"][target].items():
        spec = static_spec(name)
        run = FORMATS[target].load_module().load(folder / g["file"], spec)
        graphs[name] = lambda x, run=run, spec=spec: tuple(run(x)[o] for o in spec.outputs)
    return graphs


# Tolerance between the static graphs and the dynamic ones: the same float32 convolutions in
# another order (parity at export is ~1e-6).
STATIC_TOLERANCE = 1e-5


@pytest.mark.parametrize("shape", [(12, 12), (64, 48), (128, 128), (130, 246), (300, 412), (248, 600)])
def test_windowed_pnet_equals_the_whole_level_run(bundle, shape):
    from imn_sdk.detect import windowed_pnet
    static = bundle.manifest["detector"]["static"]
    window = static["pnet_window"]
    graphs = _static_graphs(bundle.folder, static, "onnx")
    level = np.random.default_rng(sum(shape)).random((1, 3, *shape), dtype=np.float32)
    whole = bundle.detector["pnet"](level)
    tiled = windowed_pnet(graphs["pnet"], window)(level)
    for a, b in zip(whole, tiled):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, atol=STATIC_TOLERANCE, rtol=0)


def test_static_graphs_find_the_same_faces(bundle, astronaut):
    from imn_sdk.detect import one_by_one, windowed_pnet
    static = bundle.manifest["detector"]["static"]
    graphs = _static_graphs(bundle.folder, static, "onnx")
    runners = {"pnet": windowed_pnet(graphs["pnet"], static["pnet_window"]),
               "rnet": one_by_one(graphs["rnet"]), "onet": one_by_one(graphs["onet"])}
    (dynamic,), (fixed,) = detect_faces(astronaut, bundle.detector), detect_faces(astronaut, runners)
    np.testing.assert_allclose(fixed.box, dynamic.box, atol=1e-3)
    np.testing.assert_allclose(fixed.landmarks, dynamic.landmarks, atol=1e-3)


@pytest.mark.parametrize("target,needs", [("tflite", "ai_edge_litert"), ("coreml", "coremltools")])
def test_mobile_static_graphs_match_the_dynamic_onnx_ones(bundle, tmp_path, target, needs):
    pytest.importorskip(needs)
    from imn_export.export.detector import export_static_detector
    from imn_sdk.detect import one_by_one, windowed_pnet

    static = export_static_detector(tmp_path, [target], {"imn.model": "test"}, log=lambda _: None)
    graphs = _static_graphs(tmp_path, static, target)
    level = np.random.default_rng(0).random((1, 3, 200, 140), dtype=np.float32)
    for a, b in zip(bundle.detector["pnet"](level), windowed_pnet(graphs["pnet"], static["pnet_window"])(level)):
        np.testing.assert_allclose(b, a, atol=1e-4, rtol=0)
    patches = np.random.default_rng(1).random((3, 3, 48, 48), dtype=np.float32)
    for a, b in zip(bundle.detector["onet"](patches), one_by_one(graphs["onet"])(patches)):
        np.testing.assert_allclose(b, a, atol=1e-4, rtol=0)
