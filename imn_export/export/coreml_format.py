"""Core ML target: an ML program (``.mlpackage``) converted from a traced module by coremltools.

* fp32: compute precision float32.
* fp16: compute precision float16, except the op types in ``FP16_KEEP_FP32`` (the coupling's
  scale path), which stay float32; the manifest lists them.
* int8: float16 compute with int8 weights (``linear_quantize_weights``, per-channel symmetric).
  Activation quantization in coremltools needs ``predict`` (macOS), so it is not done here.

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


def _quantize_weights(model):
    import coremltools.optimize.coreml as cto

    config = cto.OptimizationConfig(global_config=cto.OpLinearQuantizerConfig(
        mode="linear_symmetric", dtype="int8", granularity="per_channel",
        weight_threshold=INT8_WEIGHT_THRESHOLD))
    return cto.linear_quantize_weights(model, config=config)


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
        model = _quantize_weights(model)
        notes["quantization"] = (f"int8 weights (linear_quantize_weights, per-channel symmetric, "
                                 f"weight_threshold {INT8_WEIGHT_THRESHOLD}); activations float16")
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
