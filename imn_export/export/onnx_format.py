"""ONNX target: TorchScript exporter (opset 17), onnx.checker, onnxsim, onnxruntime.

int8 is ONNX Runtime's static QDQ quantization of the coupling functions (``quant_scope``):
per-channel int8 weights and uint8 activations (int8 activations ran 2x slower in ONNX Runtime
on x86 here), calibrated on ``calibration/``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from imn_export.export.graphs import GraphSpec

OPSET = 17


def _embed_metadata(model, metadata: dict[str, str]) -> None:
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value


def _export_fp32(graph: nn.Module, spec: GraphSpec, samples: Sequence[torch.Tensor], path: Path) -> None:
    import onnx
    import onnxsim

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        torch.onnx.export(graph, tuple(samples), str(raw), input_names=list(spec.inputs),
                          output_names=list(spec.outputs), opset_version=OPSET, dynamo=False)
        model = onnx.load(str(raw))
    model, ok = onnxsim.simplify(model)
    if not ok:
        raise RuntimeError("onnxsim could not validate the simplified graph")
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


class _Reader:
    """onnxruntime's CalibrationDataReader over a list of input tuples."""

    def __init__(self, spec: GraphSpec, batches: Sequence[Sequence[np.ndarray]]):
        self._feeds = iter([dict(zip(spec.inputs, batch)) for batch in batches])

    def get_next(self):
        return next(self._feeds, None)


def _quantize_int8(fp32_path: Path, spec: GraphSpec, calibration: Sequence[Sequence[np.ndarray]],
                   path: Path) -> None:
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    pattern = spec.quant.onnx_nodes
    scope = None
    if pattern is not None:
        scope = [node.name for node in onnx.load(str(fp32_path)).graph.node
                 if pattern.search(node.name)]
        if not scope:
            raise RuntimeError(f"no {spec.name} nodes match {pattern.pattern} to quantize; did the "
                               "exporter's node naming change?")
    quantize_static(str(fp32_path), str(path), _Reader(spec, calibration), nodes_to_quantize=scope,
                    quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax,
                    # A branch tensor feeds both a dense block (int8) and the coupling's float
                    # add/mul: a shared QDQ pair would round the branch itself to 8 bits.
                    extra_options={"DedicatedQDQPair": True})


def export(graph: nn.Module, spec: GraphSpec, samples: Sequence[torch.Tensor], path: Path,
           precision: str, metadata: dict[str, str],
           calibration: Sequence[Sequence[np.ndarray]] | None = None) -> dict:
    """Write ``path`` (``.onnx``); returns notes for the manifest."""
    import onnx

    notes = {"opset": OPSET}
    if precision == "fp32":
        _export_fp32(graph, spec, samples, path)
    elif precision == "int8":
        if not calibration:
            raise ValueError("int8 ONNX export needs calibration inputs")
        with tempfile.TemporaryDirectory() as tmp:
            fp32 = Path(tmp) / "fp32.onnx"
            _export_fp32(graph, spec, samples, fp32)
            _quantize_int8(fp32, spec, calibration, path)
        notes["quantization"] = ("onnxruntime quantize_static QDQ, per-channel int8 weights, "
                                 f"uint8 activations, MinMax over {len(calibration)} calibration inputs")
        notes["int8_scope"] = spec.quant.description
    else:
        raise ValueError(f"ONNX export has no precision {precision!r}")
    model = onnx.load(str(path))
    _embed_metadata(model, metadata)
    onnx.save(model, str(path))
    return notes


def read_metadata(path: Path) -> dict[str, str]:
    import onnx

    return {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}


def load(path: Path, spec: GraphSpec, threads: int = 2):
    """A callable ``(*inputs: np.ndarray) -> dict[output name, np.ndarray]`` over onnxruntime."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(*inputs: np.ndarray) -> dict[str, np.ndarray]:
        outputs = session.run(list(spec.outputs), dict(zip(spec.inputs, inputs)))
        return dict(zip(spec.outputs, outputs))

    return run
