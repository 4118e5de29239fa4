"""Core ML target: an ML program (``.mlpackage``) converted from a traced module by coremltools.

* fp32: compute precision float32.
* fp16: compute precision float16, except the op types in ``FP16_KEEP_FP32`` (the coupling's
  scale path), which stay float32; the manifest lists them.
* int8: float16 compute with int8 weights (``linear_quantize_weights``, per-channel symmetric)
  and, for graphs whose int8 scope names Core ML convs (the hiding network's rho and eta), int8
  activations at those convs' inputs: coremltools' activation-quantization pass with ranges
  measured on ``calibration/`` by the MIL evaluator, since ``linear_quantize_activations``
  measures through ``predict`` (macOS only). Needs iOS 17 (quantize/dequantize ops).

Prediction runs where Core ML does (macOS); elsewhere the saved program is evaluated op by op by
:mod:`imn_export.export.coreml_mil`, which makes the parity check real on Linux too.
"""

from __future__ import annotations

import platform
import shutil
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from imn_export.export.graphs import GraphSpec

DEPLOYMENT_TARGET = "iOS16"
# exp(clamp * (2 sigmoid(rho) - 1)) multiplies the protected branch: its error grows with the
# scale, so it keeps float32 under fp16 compute.
FP16_KEEP_FP32 = ("sigmoid", "exp")
INT8_WEIGHT_THRESHOLD = 32  # coremltools' default 2048 would skip every small conv of this net
PARAMETER_PREFIX = "net_"  # the graph wrappers hold their network as .net
# Asymmetric: the convs read leaky-ReLU outputs and [0, 1] images, mostly positive; symmetric
# int8 wasted half its range there (hide+reveal recovery -2.76 dB vs -1.26 dB asymmetric, QAT
# weights, 256 px, first 4 real faces).
ACTIVATION_MODE = "linear"


def _convert(graph: nn.Module, spec: GraphSpec, samples: Sequence[torch.Tensor], precision: str):
    import coremltools as ct

    traced = torch.jit.trace(graph.eval(), tuple(samples))
    if precision == "fp32":
        compute = ct.precision.FLOAT32
    else:
        compute = ct.transform.FP16ComputePrecision(
            op_selector=lambda op: op.op_type not in FP16_KEEP_FP32)
    return ct.convert(
        traced, convert_to="mlprogram", compute_precision=compute,
        inputs=[ct.TensorType(name=name, shape=tuple(x.shape), dtype=np.float32)
                for name, x in zip(spec.inputs, samples)],
        outputs=[ct.TensorType(name=name) for name in spec.outputs],
        minimum_deployment_target=getattr(ct.target, DEPLOYMENT_TARGET))


def _program(model):
    """The MIL program as coremltools' compression passes see it (read back from the spec), so
    op and variable names match what the passes rewrite."""
    from coremltools import _SPECIFICATION_VERSION_IOS_17
    from coremltools.converters.mil.frontend.milproto import load as milproto_load
    from coremltools.models import utils as model_utils

    return model_utils._convert_model_spec_to_pymil_prog(
        model, max(model.get_spec().specificationVersion, _SPECIFICATION_VERSION_IOS_17),
        milproto_load.load)


def _conv_weights(program) -> dict[str, str]:
    """conv op name -> the name of the const feeding its weight (the torch parameter's path,
    "net_blocks_0_rho_hidden_0_weight"; constants built in ``forward`` get names like "op_50")."""
    return {op.name: op.inputs["weight"].op.name for op in program.functions["main"].operations
            if op.op_type == "conv" and op.inputs["weight"].op is not None}


def _quantize_weights(model):
    """int8 weights for every conv whose weight is a module parameter; the Haar transform's fixed
    filters (constants, not parameters) stay exact, like in the other targets."""
    import coremltools.optimize.coreml as cto

    fixed = {conv: None for conv, weight in _conv_weights(_program(model)).items()
             if not weight.startswith(PARAMETER_PREFIX)}
    config = cto.OptimizationConfig(
        global_config=cto.OpLinearQuantizerConfig(
            mode="linear_symmetric", dtype="int8", granularity="per_channel",
            weight_threshold=INT8_WEIGHT_THRESHOLD),
        op_name_configs=fixed)
    return cto.linear_quantize_weights(model, config=config)


def _quantize_activations(model, spec: GraphSpec, calibration: Sequence[Sequence[np.ndarray]]):
    """Insert int8 quantize/dequantize pairs before the convs of the graph's activation scope
    (``QuantScope.coreml_weights`` matches their weight names), with ranges measured on
    ``calibration`` by the MIL evaluator: coremltools' ``linear_quantize_activations`` does the
    same but measures through ``predict``, which needs macOS. Returns the model and the number of
    convs quantized."""
    import coremltools.optimize.coreml as cto
    from coremltools import _SPECIFICATION_VERSION_IOS_17
    from coremltools.converters.mil.frontend.milproto import load as milproto_load
    from coremltools.converters.mil.mil.passes.graph_pass import PassOption
    from coremltools.converters.mil.mil.passes.pass_registry import PASS_REGISTRY
    from coremltools.models import utils as model_utils

    from imn_export.export.coreml_mil import activation_ranges

    program = _program(model)
    pattern = spec.quant.coreml_weights
    convs = [conv for conv, weight in _conv_weights(program).items() if pattern.search(weight)]
    if not convs:
        raise RuntimeError(f"no {spec.name} conv weight matches {pattern.pattern} to quantize; did "
                           "the converter's naming change?")
    stats = activation_ranges(program, [dict(zip(spec.inputs, batch)) for batch in calibration])
    op_config = cto.OpLinearQuantizerConfig(mode=ACTIVATION_MODE, dtype="int8")
    config = cto.OptimizationConfig(op_name_configs={name: op_config for name in convs})
    insert = PASS_REGISTRY["compression::insert_prefix_quantize_dequantize_pair"]
    insert.set_options([PassOption("config", config), PassOption("activation_stats", stats)])
    quantized = model_utils._apply_graph_pass(
        model, [insert], spec_version=_SPECIFICATION_VERSION_IOS_17,
        pymil_load_func=milproto_load.load, skip_model_load=model.__proxy__ is None)
    return quantized, len(convs)


def export(graph: nn.Module, spec: GraphSpec, samples: Sequence[torch.Tensor], path: Path,
           precision: str, metadata: dict[str, str],
           calibration: Sequence[Sequence[np.ndarray]] | None = None) -> dict:
    """Write ``path`` (an ``.mlpackage`` folder); returns notes for the manifest."""
    if precision not in ("fp32", "fp16", "int8"):
        raise ValueError(f"Core ML export has no precision {precision!r}")
    model = _convert(graph, spec, samples, precision)
    notes: dict = {"deployment_target": DEPLOYMENT_TARGET,
                   "compute_precision": "float32" if precision == "fp32" else "float16"}
    if precision != "fp32":
        notes["fp32_ops"] = list(FP16_KEEP_FP32)
    if precision == "int8":
        activations = "float16"
        if spec.quant.coreml_weights is not None:
            if not calibration:
                raise ValueError("int8 Core ML export needs calibration inputs")
            model, count = _quantize_activations(model, spec, calibration)
            activations = (f"int8 ({ACTIVATION_MODE}, per tensor) at the inputs of {count} convs "
                           f"({spec.quant.description}), MinMax over {len(calibration)} calibration "
                           "inputs measured by the MIL evaluator; other activations float16")
            notes["deployment_target"] = "iOS17"  # quantize/dequantize ops
        model = _quantize_weights(model)
        notes["quantization"] = (f"int8 weights (linear_quantize_weights, per-channel symmetric, "
                                 f"weight_threshold {INT8_WEIGHT_THRESHOLD}); activations {activations}")
    model.short_description = metadata.get("imn.description", "")
    model.user_defined_metadata.update(metadata)
    if path.exists():
        shutil.rmtree(path)
    model.save(str(path))
    return notes


def read_metadata(path: Path) -> dict[str, str]:
    import coremltools as ct

    spec = ct.models.MLModel(str(path), skip_model_load=True).get_spec()
    return {k: v for k, v in spec.description.metadata.userDefined.items()
            if not k.startswith("com.github.apple.coremltools")}


def predicts_natively() -> bool:
    return platform.system() == "Darwin"


def load(path: Path, spec: GraphSpec, threads: int = 2):
    """A callable ``(*inputs: np.ndarray) -> dict[output name, np.ndarray]``.

    Core ML itself on macOS; the op-by-op MIL evaluator elsewhere (``threads`` sets torch's).
    """
    if predicts_natively():
        import coremltools as ct

        model = ct.models.MLModel(str(path), compute_units=ct.ComputeUnit.CPU_ONLY)

        def run(*inputs: np.ndarray) -> dict[str, np.ndarray]:
            out = model.predict(dict(zip(spec.inputs, inputs)))
            return {name: np.asarray(out[name], dtype=np.float32) for name in spec.outputs}

        return run

    from imn_export.export.coreml_mil import load_program, run_program

    program = load_program(path)

    def run_mil(*inputs: np.ndarray) -> dict[str, np.ndarray]:
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            out = run_program(program, dict(zip(spec.inputs, inputs)))
        finally:
            torch.set_num_threads(previous)
        return {name: out[name] for name in spec.outputs}

    return run_mil
