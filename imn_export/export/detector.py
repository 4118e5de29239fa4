"""The face detector's graphs in the bundle: MTCNN's pnet, rnet and onet.

Two forms. The dynamic ONNX graphs run PNet on a whole pyramid level and RNet/ONet on all boxes
at once (ONNX Runtime, the Python SDK). Mobile runtimes want static shapes (LiteRT's converter
cannot export PNet with symbolic sizes), so every ONNX, TFLite or Core ML target also gets static
graphs, exported and checked by that target's own module: PNet on a fixed ``STATIC_PNET_WINDOW``
square, RNet and ONet on one box. The SDKs slide PNet's window over each level
(sdk/spec/photo.md §2) and get exactly the dynamic graph's cells.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from imn_export.export.bundle import move_into_place, sha256_path
from imn_export.export.formats import FORMATS
from imn_export.export.graphs import GraphSpec
from imn_export.export.onnx_format import OPSET, _embed_metadata
from imn_export.nn.quant_scope import CONVOLUTIONS

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

# PNet's static input: a window of 128 px gives 59 exact cells per axis (window / 2 - 5), so a
# 1280-px detection copy takes a few dozen windows, and small levels waste little padding.
STATIC_PNET_WINDOW = 128
STATIC_TARGETS = ("onnx", "tflite", "coreml")


class _FlatPReLU(torch.nn.Module):
    """PReLU as ``relu(x) - alpha * relu(-x)`` (the same function): Core ML's converter takes a
    per-channel PReLU only on rank-4 inputs, and RNet/ONet apply one after their dense layer."""

    def __init__(self, prelu: torch.nn.PReLU):
        super().__init__()
        self.alpha = torch.nn.Parameter(prelu.weight.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) - self.alpha * torch.relu(-x)


def _coreml_compatible(net: torch.nn.Module) -> torch.nn.Module:
    import copy

    if not hasattr(net, "act"):
        return net
    net = copy.deepcopy(net)
    net.act = _FlatPReLU(net.act)
    return net


def static_shapes(window: int = STATIC_PNET_WINDOW) -> dict[str, tuple[int, ...]]:
    """Input shape of each static detector graph."""
    return {"pnet": (1, 3, window, window), "rnet": (1, 3, 24, 24), "onet": (1, 3, 48, 48)}


def _static_name(name: str, target: str, window: int) -> str:
    suffix = f"w{window}" if name == "pnet" else "b1"
    return f"detector-{name}-{suffix}{FORMATS[target].suffix}"


def static_spec(name: str, net: torch.nn.Module | None = None) -> GraphSpec:
    """A graph spec for one detector network, so each target's own export() and load() serve it."""
    inputs, outputs = DETECTOR_GRAPHS[name][:2]
    return GraphSpec(f"detector-{name}", lambda _: net, inputs, outputs, f"MTCNN {name}", CONVOLUTIONS)


def export_static_detector(out: Path, targets: list[str], metadata: dict[str, str], log=print,
                           window: int = STATIC_PNET_WINDOW) -> dict:
    """Static-shape detector graphs for each of ``targets`` (onnx, tflite, coreml); returns the manifest's
    ``detector.static`` entry with each graph's parity against the PyTorch port."""
    from imn_export.nn.mtcnn import load_mtcnn

    nets, entry = load_mtcnn(), {"pnet_window": window, "batch": 1, "targets": {}}
    generator = torch.Generator().manual_seed(1)
    for target in targets:
        graphs = {}
        for name, shape in static_shapes(window).items():
            final = out / _static_name(name, target, window)
            sample = torch.rand(shape, generator=generator)
            tmp_path = out / f".tmp-{final.name}"
            net = _coreml_compatible(nets[name]) if target == "coreml" else nets[name]
            spec = static_spec(name, net)
            module = FORMATS[target].load_module()
            module.export(net, spec, [sample], tmp_path, "fp32",
                          {**metadata, "imn.graph": f"detector-{name}", "imn.target": target})
            move_into_place(tmp_path, final)
            check = torch.rand(shape, generator=generator)
            with torch.no_grad():
                expected = [t.numpy() for t in nets[name](check)]
            got = module.load(final, spec)(check.numpy())  # Core ML: the MIL evaluator off macOS
            error = max(float(np.abs(got[o] - e).max()) for o, e in zip(spec.outputs, expected))
            if error > PARITY_MAX_ERROR:
                raise RuntimeError(f"static detector {name} ({target}) differs from PyTorch by {error:.2e}")
            graphs[name] = {"file": final.name, "sha256": sha256_path(final), "inputs": list(spec.inputs),
                            "outputs": list(spec.outputs), "shape": list(shape), "parity_max_abs_error": error}
            log(f"detector {name} ({target}, static {list(shape)}): {final.name}, parity max error {error:.1e}")
        entry["targets"][target] = graphs
    return entry


def export_detector(out: Path, metadata: dict[str, str], log=print) -> dict:
    """Write ``detector-{pnet,rnet,onet}.onnx`` into ``out``; returns the manifest's ``detector``
    entry with the measured parity against the PyTorch port."""
    import onnx

    from imn_export.nn.mtcnn import load_mtcnn
    from imn_sdk.bundle import onnx_session

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
        session = onnx_session(final)
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
