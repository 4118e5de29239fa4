"""The face detector's graphs in the bundle (ONNX): MTCNN's pnet, rnet and onet.

Unlike the hiding graphs these keep dynamic shapes: PNet runs over an image pyramid, RNet and
ONet over however many candidate boxes a photo has. ONNX Runtime handles that directly; a
static-shape mobile export of the detector is future work (sdk/README.md).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from imn_export.export.bundle import move_into_place, sha256_path
from imn_export.export.onnx_format import OPSET, _embed_metadata

# name: (module key, inputs, outputs, dynamic axes, sample input shape)
DETECTOR_GRAPHS = {
    "pnet": (("image",), ("offsets", "face_prob"),
             {"image": {2: "height", 3: "width"}, "offsets": {2: "rows", 3: "cols"},
              "face_prob": {1: "rows", 2: "cols"}}, (1, 3, 64, 48)),
    "rnet": (("patches",), ("offsets", "face_prob"),
             {"patches": {0: "boxes"}, "offsets": {0: "boxes"}, "face_prob": {0: "boxes"}},
             (2, 3, 24, 24)),
    "onet": (("patches",), ("offsets", "landmarks", "face_prob"),
             {"patches": {0: "boxes"}, "offsets": {0: "boxes"}, "landmarks": {0: "boxes"},
              "face_prob": {0: "boxes"}}, (2, 3, 48, 48)),
}
PARITY_MAX_ERROR = 1e-4  # ONNX Runtime vs PyTorch, probabilities and offsets


def export_detector(out: Path, metadata: dict[str, str], log=print) -> dict:
    """Write ``detector-{pnet,rnet,onet}.onnx`` into ``out``; returns the manifest's ``detector``
    entry with the measured parity against the PyTorch port."""
    import onnx
    import onnxruntime as ort

    from imn_export.detect.mtcnn import load_mtcnn

    nets, graphs = load_mtcnn(), {}
    generator = torch.Generator().manual_seed(0)
    for name, (inputs, outputs, dynamic, shape) in DETECTOR_GRAPHS.items():
        final = out / f"detector-{name}.onnx"
        sample = torch.rand(shape, generator=generator)
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "raw.onnx"
            torch.onnx.export(nets[name], (sample,), str(raw), input_names=list(inputs),
                              output_names=list(outputs), dynamic_axes=dynamic,
                              opset_version=OPSET, dynamo=False)
            model = onnx.load(str(raw))
        onnx.checker.check_model(model, full_check=True)
        _embed_metadata(model, {**metadata, "imn.graph": f"detector-{name}"})
        tmp_path = out / f".tmp-{final.name}"
        onnx.save(model, str(tmp_path))
        move_into_place(tmp_path, final)

        # Parity at a shape other than the traced one: the dynamic axes must really be dynamic.
        check = torch.rand((shape[0] + 1, *shape[1:2], shape[2] + 10, shape[3] + 6) if name == "pnet"
                           else (shape[0] + 3, *shape[1:]), generator=generator)
        if name == "pnet":
            check = check[:1]
        with torch.no_grad():
            expected = [t.numpy() for t in nets[name](check)]
        session = ort.InferenceSession(str(final), providers=["CPUExecutionProvider"])
        got = session.run(list(outputs), {inputs[0]: check.numpy()})
        error = max(float(np.abs(a - b).max()) for a, b in zip(got, expected))
        if error > PARITY_MAX_ERROR:
            raise RuntimeError(f"detector {name}: ONNX Runtime differs from PyTorch by {error:.2e}")
        graphs[name] = {"file": final.name, "sha256": sha256_path(final), "inputs": list(inputs),
                        "outputs": list(outputs), "dynamic_axes": dynamic,
                        "parity_max_abs_error": error}
        log(f"detector {name}: {final.name}, parity max error {error:.1e}")
    return {"kind": "mtcnn", "weights": "mtcnn PyPI package (assets/weights/*.lz4)",
            "target": "onnx", "layout": "NCHW", "value_range": [0.0, 1.0],
            "graphs": graphs}
