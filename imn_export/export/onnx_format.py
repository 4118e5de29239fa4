"""ONNX target: TorchScript exporter (opset 17), onnx.checker, onnxsim, onnxruntime.

int8 is ONNX Runtime's static QDQ quantization of the graph's int8 scope (``quant_scope``):
per-channel 7-bit weights (``reduce_range``) and uint8 activations (int8 activations ran 2x slower
in ONNX Runtime on x86 here), calibrated on ``calibration/``. Convs the scope keeps at float
activations get int8 weights alone: a ``DequantizeLinear`` of the int8 initializer feeds a float
conv.

Why 7-bit weights: on x86 CPUs without VNNI (AVX2, AVX-512 before Cascade Lake) ONNX Runtime's
uint8 x int8 kernels sum pairs of products in int16 (``vpmaddubsw``), which saturates when
255 * (|w1| + |w2|) > 32767; with |w| <= 63 it cannot. Full-range weights made the same Mask-net
int8 graph measure 36.0 dB on a VNNI CPU and 28.5 dB on an emulated Haswell (qemu-x86_64 -cpu
Haswell, same packages): the figure depended on the machine, not the model. 7-bit weights give
35.2 dB on both (tests/export/test_onnx_format.py runs the check under qemu).
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
        # An empty list would mean "every node" to quantize_static.
        scope = [node.name for node in onnx.load(str(fp32_path)).graph.node
                 if pattern.search(node.name)]
        if not scope:
            raise RuntimeError(f"no {spec.name} nodes match {pattern.pattern} to quantize; did the "
                               "exporter's node naming change?")
    quantize_static(str(fp32_path), str(path), _Reader(spec, calibration), nodes_to_quantize=scope,
                    quant_format=QuantFormat.QDQ, per_channel=True, reduce_range=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax,
                    # A branch tensor feeds both a dense block (int8) and the coupling's float
                    # add/mul: a shared QDQ pair would round the branch itself to 8 bits.
                    extra_options={"DedicatedQDQPair": True})
    if spec.quant.onnx_weight_only is not None:
        model = onnx.load(str(path))
        if not int8_weights_only(model, spec.quant.onnx_weight_only):
            raise RuntimeError(f"no {spec.name} conv matches {spec.quant.onnx_weight_only.pattern} "
                               "for int8 weights; did the exporter's node naming change?")
        onnx.save(model, str(path))


def int8_weights_only(model, pattern) -> int:
    """Store the weights of the float convs whose names match ``pattern`` as int8, symmetric per
    output channel, behind a ``DequantizeLinear``; activations stay float. Edits ``model`` in
    place and returns how many convs changed."""
    from onnx import helper, numpy_helper

    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    dequantizers = []
    for node in graph.node:
        weight = node.input[1] if node.op_type == "Conv" else None
        if weight not in initializers or not pattern.search(node.name):
            continue
        tensor = initializers.pop(weight)
        graph.initializer.remove(tensor)
        w = numpy_helper.to_array(tensor)
        scale = np.abs(w).reshape(len(w), -1).max(axis=1) / 127.0
        scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
        q = np.clip(np.rint(w / scale.reshape(-1, 1, 1, 1)), -127, 127).astype(np.int8)
        graph.initializer.extend([numpy_helper.from_array(q, f"{weight}_int8"),
                                  numpy_helper.from_array(scale, f"{weight}_scale"),
                                  numpy_helper.from_array(np.zeros(len(w), np.int8), f"{weight}_zero")])
        dequantizers.append(helper.make_node(
            "DequantizeLinear", [f"{weight}_int8", f"{weight}_scale", f"{weight}_zero"], [weight],
            name=f"{weight}_DequantizeLinear", axis=0))
    nodes = dequantizers + list(graph.node)  # topological order: constants first
    del graph.node[:]
    graph.node.extend(nodes)
    return len(dequantizers)


def compact_names(model) -> None:
    """Rename every internal tensor to a short counter name and drop node names and value_info,
    in place; graph inputs and outputs keep their contract names. Names are bytes a phone
    downloads: in an int8 QDQ graph the torch module paths ("/blocks.0/rho/hidden.0/Conv_output_0
    _QuantizeLinear_Output") were a fifth of the file."""
    graph = model.graph
    kept = {v.name for v in graph.input} | {v.name for v in graph.output}
    renamed: dict[str, str] = {}

    def short(name: str) -> str:
        if not name or name in kept:
            return name
        return renamed.setdefault(name, f"t{len(renamed):x}")

    for tensor in graph.initializer:
        tensor.name = short(tensor.name)
    for node in graph.node:
        if any(a.type == a.GRAPH or a.type == a.GRAPHS for a in node.attribute):
            raise ValueError(f"{node.op_type} has a subgraph; compact_names handles flat graphs only")
        node.input[:] = [short(n) for n in node.input]
        node.output[:] = [short(n) for n in node.output]
        node.name = ""
    del graph.value_info[:]


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
        notes["quantization"] = ("onnxruntime quantize_static QDQ, per-channel 7-bit weights "
                                 "(reduce_range: no int16 saturation on non-VNNI x86), "
                                 f"uint8 activations, MinMax over {len(calibration)} calibration inputs"
                                 + ("; int8 weights only (float activations) where the scope "
                                    "says so" if spec.quant.onnx_weight_only else ""))
        notes["int8_scope"] = spec.quant.description
    else:
        raise ValueError(f"ONNX export has no precision {precision!r}")
    model = onnx.load(str(path))
    compact_names(model)
    onnx.checker.check_model(model, full_check=True)
    _embed_metadata(model, metadata)
    onnx.save(model, str(path))
    return notes


def read_metadata(path: Path) -> dict[str, str]:
    import onnx

    return {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}


def load(path: Path, spec: GraphSpec, threads: int = 2):
    """A callable ``(*inputs: np.ndarray) -> dict[output name, np.ndarray]`` over the SDK's
    onnxruntime session."""
    from imn_sdk.bundle import onnx_session

    session = onnx_session(path, threads)

    def run(*inputs: np.ndarray) -> dict[str, np.ndarray]:
        outputs = session.run(list(spec.outputs), dict(zip(spec.inputs, inputs)))
        return dict(zip(spec.outputs, outputs))

    return run
