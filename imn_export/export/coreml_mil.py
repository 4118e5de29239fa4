"""Evaluate a saved Core ML ML program op by op on Linux, where ``MLModel.predict`` cannot run.

Walks the MIL program stored in the ``.mlpackage`` (the bytes an app ships, not the torch
model), computing each op in float32 and rounding its output to the op's declared dtype, so
fp16 programs are emulated op by op. Covers the ops the IMN graphs convert to; any other op
raises :class:`UnsupportedMILOp` naming it. Numbers come close to, but are not bit-identical
with, Apple's CPU/GPU/ANE kernels: parity thresholds leave room for that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F


class UnsupportedMILOp(NotImplementedError):
    pass


def load_program(path: str | Path):
    """The MIL ``Program`` of an ``.mlpackage``, weights included."""
    import coremltools as ct
    from coremltools.converters.mil.frontend.milproto.load import load

    model = ct.models.MLModel(str(path), skip_model_load=True)
    spec = model.get_spec()
    return load(spec, spec.specificationVersion, file_weights_dir=model.weights_dir)


def _dtype(var) -> np.dtype:
    from coremltools.converters.mil.mil import types

    return np.dtype(types.nptype_from_builtin(var.dtype))


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


def _conv(x, weight, bias=None, strides=(1, 1), pad_type="valid", pad=(0, 0, 0, 0),
          dilations=(1, 1), groups=1, **_):
    x, w = _t(x), _t(weight)
    if pad_type == "custom":
        top, bottom, left, right = (int(p) for p in pad)
        x = F.pad(x, (left, right, top, bottom))
        padding: Any = 0
    elif pad_type == "same":
        padding = "same"
    elif pad_type == "valid":
        padding = 0
    else:
        raise UnsupportedMILOp(f"conv pad_type {pad_type!r}")
    out = F.conv2d(x, w, None if bias is None else _t(bias), tuple(int(s) for s in strides),
                   padding, tuple(int(d) for d in dilations), int(groups))
    return out.numpy()


def _concat(values, axis, interleave=False, **_):
    if interleave:
        raise UnsupportedMILOp("concat with interleave=True")
    return np.concatenate([np.asarray(v, dtype=np.float32) for v in values], axis=int(axis))


def _affine_dequantize(quantized_data, zero_point, scale, axis, **_):
    shape = [1] * quantized_data.ndim
    shape[int(axis)] = -1
    zero = np.asarray(zero_point, np.float32)
    scale = np.asarray(scale, np.float32)
    if zero.ndim:
        zero = zero.reshape(shape)
    if scale.ndim:
        scale = scale.reshape(shape)
    return (quantized_data.astype(np.float32) - zero) * scale


def _broadcast(values, x: np.ndarray, axis) -> np.ndarray:
    """A per-tensor scalar, or a per-channel vector laid along ``axis`` of ``x``."""
    values = np.asarray(values, np.float32)
    if values.ndim == 0 or values.size == 1:
        return values.reshape(())
    shape = [1] * x.ndim
    shape[int(axis) if axis is not None else 1] = -1
    return values.reshape(shape)


_INT_RANGES = {"int8": (-128, 127), "uint8": (0, 255)}


def _quantize(input, scale, output_dtype, zero_point=None, axis=None, **_):
    """iOS17 ``quantize``: ``clip(round(input / scale) + zero_point)`` (round half to even)."""
    low, high = _INT_RANGES[str(output_dtype)]
    x = np.asarray(input, np.float32)
    zero = 0.0 if zero_point is None else _broadcast(zero_point, x, axis)
    return np.clip(np.rint(x / _broadcast(scale, x, axis)) + zero, low, high)


def _dequantize(input, scale, zero_point=None, axis=None, **_):
    """iOS17 ``dequantize``: ``scale * (input - zero_point)``."""
    q = np.asarray(input, np.float32)
    zero = 0.0 if zero_point is None else _broadcast(zero_point, q, axis)
    return _broadcast(scale, q, axis) * (q - zero)


def _pad(x, pad, mode="constant", constant_val=0.0, **_):
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)]
    if any(p != (0, 0) for p in pairs[:-2]):
        raise UnsupportedMILOp("pad of the batch or channel axis")
    (top, bottom), (left, right) = pairs[-2:]
    mode = str(mode)
    if mode not in ("constant", "reflect", "replicate"):
        raise UnsupportedMILOp(f"pad mode {mode!r}")
    kwargs = {"value": float(constant_val)} if mode == "constant" else {}
    return F.pad(_t(x), (left, right, top, bottom), mode=mode, **kwargs).numpy()


def _avg_pool(x, kernel_sizes, strides, pad_type="valid", pad=(0, 0, 0, 0), ceil_mode=False,
              exclude_padding_from_average=False, **_):
    if str(pad_type) not in ("valid", "custom") or any(int(p) for p in pad) or bool(ceil_mode):
        raise UnsupportedMILOp("avg_pool with padding or ceil_mode")
    return F.avg_pool2d(_t(x), tuple(int(k) for k in kernel_sizes),
                        tuple(int(s) for s in strides)).numpy()


def _max_pool(x, kernel_sizes, strides, pad_type="valid", pad=(0, 0, 0, 0), ceil_mode=False, **_):
    if pad_type not in ("valid", "custom"):
        raise UnsupportedMILOp(f"max_pool pad_type {pad_type!r}")
    top, bottom, left, right = (int(p) for p in pad) if pad_type == "custom" else (0, 0, 0, 0)
    t = F.pad(_t(x), (left, right, top, bottom), value=float("-inf"))
    return F.max_pool2d(t, tuple(int(k) for k in kernel_sizes), tuple(int(s) for s in strides),
                        ceil_mode=bool(ceil_mode)).numpy()


def _prelu(x, alpha, **_):
    slope = np.asarray(alpha, np.float32).reshape(1, -1, *([1] * (x.ndim - 2)))
    return np.where(x >= 0, x, slope * x)


def _softmax(x, axis=-1, **_):
    return torch.softmax(_t(x), dim=int(axis)).numpy()


def _slice_by_index(x, begin, end, stride=None, begin_mask=None, end_mask=None, squeeze_mask=None, **_):
    index, squeeze = [], []
    for axis in range(x.ndim):
        start = None if begin_mask is not None and begin_mask[axis] else int(begin[axis])
        stop = None if end_mask is not None and end_mask[axis] else int(end[axis])
        index.append(slice(start, stop, None if stride is None else int(stride[axis])))
        if squeeze_mask is not None and squeeze_mask[axis]:
            squeeze.append(axis)
    out = x[tuple(index)]
    return np.squeeze(out, axis=tuple(squeeze)) if squeeze else out


def _upsample_bilinear(x, scale_factor_height, scale_factor_width, align_corners=False,
                       half_pixel_centers=None, **_):
    if half_pixel_centers is not None and bool(half_pixel_centers) == bool(align_corners):
        raise UnsupportedMILOp("upsample_bilinear sampling other than torch's bilinear")
    return F.interpolate(_t(x), scale_factor=(float(scale_factor_height), float(scale_factor_width)),
                         mode="bilinear", align_corners=bool(align_corners)).numpy()


def _split(x, split_sizes=None, num_splits=None, axis=0, **_):
    if split_sizes is None:
        return tuple(np.split(x, int(num_splits), axis=int(axis)))
    edges = np.cumsum([int(s) for s in split_sizes])[:-1]
    return tuple(np.split(x, edges, axis=int(axis)))


KERNELS: dict[str, Callable[..., np.ndarray | tuple[np.ndarray, ...]]] = {
    "pad": _pad,
    "avg_pool": _avg_pool,
    "upsample_bilinear": _upsample_bilinear,
    "split": _split,
    "relu": lambda x, **_: np.maximum(x, 0),
    "prelu": _prelu,
    "max_pool": _max_pool,
    "softmax": _softmax,
    "slice_by_index": _slice_by_index,
    "transpose": lambda x, perm, **_: np.transpose(x, tuple(int(p) for p in perm)),
    "reshape": lambda x, shape, **_: np.reshape(x, tuple(int(d) for d in shape)),
    "clip": lambda x, alpha, beta, **_: np.clip(x, alpha, beta),
    "linear": lambda x, weight, bias=None, **_: (
        x.astype(np.float32) @ weight.astype(np.float32).T + (0 if bias is None else bias.astype(np.float32))),
    "reduce_mean": lambda x, axes=None, keep_dims=False, **_: np.mean(
        x.astype(np.float32), axis=None if axes is None else tuple(int(a) for a in axes),
        keepdims=bool(keep_dims)),
    "pow": lambda x, y, **_: np.power(x.astype(np.float32), np.float32(y)),
    "rsqrt": lambda x, epsilon=1e-12, **_: 1.0 / np.sqrt(x.astype(np.float32) + np.float32(epsilon)),
    "expand_dims": lambda x, axes, **_: np.expand_dims(x, tuple(int(a) for a in axes)),
    "conv": _conv,
    "concat": _concat,
    "add": lambda x, y, **_: np.add(x, y, dtype=np.float32),
    "sub": lambda x, y, **_: np.subtract(x, y, dtype=np.float32),
    "mul": lambda x, y, **_: np.multiply(x, y, dtype=np.float32),
    "exp": lambda x, **_: np.exp(x.astype(np.float32)),
    "sigmoid": lambda x, **_: 1.0 / (1.0 + np.exp(-x.astype(np.float32))),
    "leaky_relu": lambda x, alpha, **_: np.where(x >= 0, x, np.float32(alpha) * x),
    "pixel_shuffle": lambda x, upscale_factor, **_: F.pixel_shuffle(_t(x), int(upscale_factor)).numpy(),
    "pixel_unshuffle": lambda x, downscale_factor, **_: F.pixel_unshuffle(_t(x), int(downscale_factor)).numpy(),
    "cast": lambda x, dtype, **_: x,  # the output rounding below does the cast
    "identity": lambda x, **_: x,
    "constexpr_affine_dequantize": _affine_dequantize,
    "quantize": _quantize,
    "dequantize": _dequantize,
}


def _value(arg, env: dict[str, Any]):
    if isinstance(arg, (list, tuple)):
        return [_value(a, env) for a in arg]
    if arg.name in env:
        return env[arg.name]
    if arg.val is not None:
        return arg.val
    raise KeyError(f"MIL value {arg.name} used before it is computed")


def run_program(program, inputs: dict[str, np.ndarray],
                observe: Callable[[str, np.ndarray], None] | None = None) -> dict[str, np.ndarray]:
    """Evaluate ``program``'s ``main`` function on named numpy inputs.

    ``observe(name, value)`` sees every input and every op output (not consts) as computed.
    """
    function = program.functions["main"]
    env: dict[str, Any] = {}
    for name, var in function.inputs.items():
        if name not in inputs:
            raise KeyError(f"missing input {name!r}; the program takes {list(function.inputs)}")
        env[var.name] = np.asarray(inputs[name]).astype(_dtype(var))
        if observe is not None:
            observe(var.name, env[var.name])
    for op in function.operations:
        if op.op_type == "const":
            env[op.outputs[0].name] = op.outputs[0].val
            continue
        kernel = KERNELS.get(op.op_type)
        if kernel is None:
            raise UnsupportedMILOp(f"MIL op {op.op_type!r} ({op.name}) has no Linux kernel here")
        args = {key: _value(arg, env) for key, arg in op.inputs.items()}
        for key in ("pad_type", "dtype", "mode"):
            if key in args:
                args[key] = str(args[key])
        result = kernel(**args)
        results = result if isinstance(result, tuple) else (result,)
        if len(results) != len(op.outputs):
            raise UnsupportedMILOp(f"MIL op {op.op_type!r} ({op.name}): {len(op.outputs)} outputs, "
                                   f"kernel gave {len(results)}")
        for out, value in zip(op.outputs, results):
            env[out.name] = np.asarray(value, dtype=np.float32).astype(_dtype(out))
            if observe is not None:
                observe(out.name, env[out.name])
    return {var.name: np.asarray(env[var.name], dtype=np.float32) for var in function.outputs}


def activation_ranges(program, batches: Iterable[dict[str, np.ndarray]]) -> dict[str, dict[str, float]]:
    """Min and max of every input and op output over ``batches`` (named inputs): the calibration
    statistics coremltools' activation quantization passes take (``{name: {"rmin", "rmax"}}``),
    measured here instead of through ``predict``, which needs macOS."""
    stats: dict[str, dict[str, float]] = {}

    def observe(name: str, value: np.ndarray) -> None:
        if not np.issubdtype(value.dtype, np.floating) or value.size == 0:
            return
        low, high = float(value.min()), float(value.max())
        seen = stats.setdefault(name, {"rmin": low, "rmax": high})
        seen["rmin"], seen["rmax"] = min(seen["rmin"], low), max(seen["rmax"], high)

    for batch in batches:
        run_program(program, batch, observe)
    return stats


def op_histogram(program) -> dict[str, int]:
    """How many ops of each type the program has (what a report or a test looks at)."""
    counts: dict[str, int] = {}
    for op in program.functions["main"].operations:
        counts[op.op_type] = counts.get(op.op_type, 0) + 1
    return counts
