"""TFLite (LiteRT) target: litert-torch conversion, run by ai-edge-litert's interpreter.

int8 is PT2E post-training quantization of the graph's int8 scope (``quant_scope``) with
litert-torch's quantizer (static, per-channel weights, int8 activations), calibrated on
``calibration/``; the modules the scope keeps out of static quantization (phi) then get
dynamic-range int8 (ai-edge-quantizer: int8 weights, inputs quantized per inference). Inputs and
outputs stay float32 so every runtime sees the same I/O contract.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from imn_export.export.graphs import GraphSpec

METADATA_NAME = "imn"  # name of the TFLite metadata entry holding the JSON metadata dict


class _NamedIO(nn.Module):
    """Keyword inputs and a dict of outputs, so the TFLite signature carries the contract's names
    (litert-torch otherwise names them ``args_0`` ... and ``output_0`` ...)."""

    def __init__(self, graph: nn.Module, spec: GraphSpec):
        super().__init__()
        self.inner, self.spec = graph, spec

    def forward(self, **inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        outputs = self.inner(*(inputs[name] for name in self.spec.inputs))
        return dict(zip(self.spec.outputs, outputs))


def _quantized_module(module: nn.Module, kwargs: dict[str, torch.Tensor], spec: GraphSpec,
                      calibration: Sequence[Sequence[np.ndarray]]):
    from litert_torch.quantize.pt2e_quantizer import PT2EQuantizer, get_symmetric_quantization_config
    from litert_torch.quantize.quant_config import QuantConfig
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    config = get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False)
    quant = spec.quant
    qualname = lambda t: f"{t.__module__}.{t.__qualname__}"  # noqa: E731
    scope = qualname(quant.module) if quant.module else None
    excluded = {qualname(t) for t in quant.tflite_float_modules}
    float_names = set(quant.float_activation_modules)  # dynamic int8, after conversion

    def is_integer(node, model) -> bool:
        value = node.meta.get("val")
        if node.op == "get_attr":  # constants carry no "val"; look at the tensor itself
            value = model
            for part in str(node.target).split("."):
                value = getattr(value, part, None)
        return isinstance(value, torch.Tensor) and not value.dtype.is_floating_point

    def scope_of(model):
        def in_scope(node) -> bool:
            if is_integer(node, model) or any(is_integer(a, model) for a in node.all_input_nodes):
                return False  # index arithmetic (e.g. a decomposed resize): nothing to quantize
            # Weight constants carry no module stack; the op that uses them decides.
            stack = node.meta.get("nn_module_stack")
            if stack and excluded and any(kind in excluded for _, kind in stack.values()):
                return False
            if stack and float_names and any(str(path).rsplit(".", 1)[-1] in float_names
                                             for path, _ in stack.values()):
                return False
            return scope is None or stack is None or any(kind == scope for _, kind in stack.values())
        return in_scope

    class ScopedQuantizer(PT2EQuantizer):
        """Annotates only the ops of the graph's int8 scope (PT2EQuantizer.set_module_type
        rejects every conv, whose weight nodes have no module stack) and no integer arithmetic."""

        def _annotate_for_static_quantization_config(self, model):
            model = self._annotate_all_static_patterns(model, config, scope_of(model))
            if quant.float_output_suffix is None:
                return model
            for node in model.graph.nodes:
                stack = node.meta.get("nn_module_stack") or {}
                annotation = node.meta.get("quantization_annotation")
                if (annotation is not None and stack
                        and list(stack.values())[-1][0].endswith(quant.float_output_suffix)):
                    annotation.output_qspec = None
            return model

    quantizer = ScopedQuantizer()
    exported = torch.export.export(module, (), kwargs).module()
    prepared = prepare_pt2e(exported, quantizer)
    with torch.no_grad():
        for batch in calibration:
            prepared(**{name: torch.from_numpy(np.asarray(x)) for name, x in zip(spec.inputs, batch)})
    converted = convert_pt2e(prepared, fold_quantize=False)
    if not any("quantize_per" in str(node.target) for node in converted.graph.nodes):
        raise RuntimeError(f"PT2E annotated no op of {spec.name}: nothing would be int8")
    # QuantConfig reads only the global config, to choose static over dynamic conversion.
    return converted, QuantConfig(pt2e_quantizer=PT2EQuantizer().set_global(config))


def _dynamic_int8(path: Path, spec: GraphSpec) -> int:
    """Dynamic-range int8 for the convs the int8 scope keeps out of static quantization: int8
    weights, and inputs quantized per inference from their actual range (ai-edge-quantizer's
    dynamic recipe; XNNPACK runs them as int8 convs). Rewrites ``path``; returns how many convs
    changed.

    Static int8 inputs clip phi's input to a calibrated range and round it on a fixed grid;
    a per-inference range follows the protected branch as it is. Measured on the QAT weights,
    256 px, first 4 real faces (scripts/litert_phi_variants.py): recovery 35.43 dB (weights only
    35.56, phi float 35.54; fp32 36.64), hide 97.6 ms vs 142.6 / 135.6 ms (2 threads)."""
    from ai_edge_quantizer import quantizer

    regex = spec.quant.tflite_dynamic.pattern
    before = _int8_weight_convs(path)
    engine = quantizer.Quantizer(str(path))
    engine.add_dynamic_config(regex=regex, operation_name="CONV_2D", num_bits=8)
    with warnings.catch_warnings():  # "already partially quantized": the rest stays as it is
        warnings.simplefilter("ignore", UserWarning)
        model = engine.quantize(enable_progress_report=False).quantized_model
    path.write_bytes(bytes(model))
    changed = _int8_weight_convs(path) - before
    if not changed:
        raise RuntimeError(f"no {spec.name} conv matches {regex} for dynamic int8; did litert-torch's "
                           "tensor naming change?")
    return changed


def _int8_weight_convs(path: Path) -> int:
    """How many CONV_2D ops read an int8 filter tensor."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(path))
    conv = {i for i, c in enumerate(model.operatorCodes)
            if max(c.builtinCode, c.deprecatedBuiltinCode) == schema.BuiltinOperator.CONV_2D}
    return sum(op.opcodeIndex in conv and g.tensors[op.inputs[1]].type == schema.TensorType.INT8
               for g in model.subgraphs for op in g.operators)


def _finish(path: Path, metadata: dict[str, str]) -> None:
    """Check float32 I/O, shorten internal tensor names and add the metadata entry, written back
    to ``path``."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(path))
    # Only the coupling functions are int8 (quant_scope), so I/O tensors stay float32; an
    # int8-typed input would break the SDK contract, so say so rather than ship it.
    subgraph = model.subgraphs[0]
    if any(subgraph.tensors[i].type != schema.TensorType.FLOAT32
           for i in list(subgraph.inputs) + list(subgraph.outputs)):
        raise RuntimeError(f"{path.name}: the converter typed an input or output as non-float32")
    # Internal names are torch module paths ("imn_export.export.tflite_format._NamedIO/..."), a
    # sixth of an int8 file; the signature carries the contract's names, so they can go.
    for graph in model.subgraphs:
        io = set(graph.inputs) | set(graph.outputs)
        for index, tensor in enumerate(graph.tensors):
            if index not in io:
                tensor.name = f"t{index:x}".encode()
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(metadata, sort_keys=True).encode(), dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_NAME, len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name != METADATA_NAME.encode()] + [entry]
    flatbuffer_utils.write_model(model, str(path))


def read_metadata(path: Path) -> dict[str, str]:
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(path))
    for entry in model.metadata or []:
        if entry.name in (METADATA_NAME, METADATA_NAME.encode()):
            return json.loads(bytes(model.buffers[entry.buffer].data).decode())
    return {}


def export(graph: nn.Module, spec: GraphSpec, samples: Sequence[torch.Tensor], path: Path,
           precision: str, metadata: dict[str, str],
           calibration: Sequence[Sequence[np.ndarray]] | None = None) -> dict:
    """Write ``path`` (``.tflite``); returns notes for the manifest."""
    import litert_torch

    module = _NamedIO(graph, spec).eval()
    kwargs = dict(zip(spec.inputs, samples))
    notes: dict = {}
    if precision == "fp32":
        edge_model = litert_torch.convert(module, sample_kwargs=kwargs)
    elif precision == "int8":
        if not calibration:
            raise ValueError("int8 TFLite export needs calibration inputs")
        quantized, quant_config = _quantized_module(module, kwargs, spec, calibration)
        edge_model = litert_torch.convert(quantized, sample_kwargs=kwargs, quant_config=quant_config)
        notes["quantization"] = ("PT2E static int8 (litert-torch PT2EQuantizer, per-channel "
                                 f"symmetric weights), {len(calibration)} calibration inputs; "
                                 "float32 I/O")
        notes["int8_scope"] = spec.quant.description
    else:
        raise ValueError(f"TFLite export has no precision {precision!r}")
    edge_model.export(str(path))
    if precision == "int8" and spec.quant.float_activation_modules:
        notes["dynamic_int8_convs"] = _dynamic_int8(path, spec)
    _finish(path, metadata)
    return notes


def load(path: Path, spec: GraphSpec, threads: int = 2):
    """A callable ``(*inputs: np.ndarray) -> dict[output name, np.ndarray]`` over LiteRT."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    runner = interpreter.get_signature_runner()

    def run(*inputs: np.ndarray) -> dict[str, np.ndarray]:
        outputs = runner(**{name: np.ascontiguousarray(x, dtype=np.float32)
                            for name, x in zip(spec.inputs, inputs)})
        return {name: outputs[name] for name in spec.outputs}

    return run
