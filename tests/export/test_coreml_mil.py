"""The Linux Core ML check: the MIL evaluator must agree with torch on a converted program."""

import numpy as np
import pytest
import torch
from torch import nn

ct = pytest.importorskip("coremltools")

from imn_export.export.coreml_mil import UnsupportedMILOp, load_program, run_program  # noqa: E402


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(24, 12, 3, padding=1)

    def forward(self, x):
        # The op kinds of the IMN graphs: pixel (un)shuffle, conv, leaky ReLU, concat, the
        # coupling's sigmoid/exp scale, add, sub, mul.
        a = torch.nn.functional.pixel_unshuffle(x, 2)
        b = torch.nn.functional.leaky_relu(self.conv(torch.cat([a, a - 0.25], 1)), 0.2)
        y = a * torch.exp(2 * torch.sigmoid(b) - 1) + 0.5
        return torch.nn.functional.pixel_shuffle(y, 2)


def _convert(tmp_path, precision, module=None):
    module = (module or Tiny()).eval()
    x = torch.rand(1, 3, 16, 16)
    model = ct.convert(torch.jit.trace(module, x), inputs=[ct.TensorType(name="x", shape=x.shape)],
                       outputs=[ct.TensorType(name="y")], convert_to="mlprogram",
                       compute_precision=precision, minimum_deployment_target=ct.target.iOS16)
    path = tmp_path / "tiny.mlpackage"
    model.save(str(path))
    return path, module, x


@pytest.mark.parametrize("precision, tolerance", [("fp32", 1e-5), ("fp16", 2e-2)])
def test_evaluator_matches_torch(tmp_path, precision, tolerance):
    compute = ct.precision.FLOAT32 if precision == "fp32" else ct.precision.FLOAT16
    path, module, x = _convert(tmp_path, compute)
    got = run_program(load_program(path), {"x": x.numpy()})["y"]
    want = module(x).detach().numpy()
    error = float(np.abs(got - want).max())
    assert error < tolerance
    if precision == "fp16":
        assert error > 0, "fp16 emulation must round: an exact match means it is not emulated"


def test_unknown_op_is_named(tmp_path):
    class Tanh(nn.Module):
        def forward(self, x):
            return torch.tanh(x)

    path, _, x = _convert(tmp_path, ct.precision.FLOAT32, Tanh())
    with pytest.raises(UnsupportedMILOp, match="tanh"):
        run_program(load_program(path), {"x": x.numpy()})


@pytest.mark.parametrize("per_channel", [False, True])
def test_quantize_dequantize_round_trip_matches_the_formula(per_channel):
    """iOS17 activation quantization: clip(round(x / s) + z) then s * (q - z), clipping included."""
    from coremltools.converters.mil import Builder as mb

    scale = np.array([0.02, 0.05, 0.1, 0.2], np.float32) if per_channel else np.float32(0.05)
    zero = np.array([-3, 0, 5, 10], np.int8) if per_channel else np.int8(4)
    axis = 1 if per_channel else None

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 4, 3, 3))], opset_version=ct.target.iOS17)
    def program(x):
        q = mb.quantize(input=x, scale=scale, zero_point=zero, output_dtype="int8", axis=axis)
        return mb.dequantize(input=q, scale=scale, zero_point=zero, axis=axis)

    x = np.random.default_rng(0).uniform(-20, 20, (1, 4, 3, 3)).astype(np.float32)
    got = next(iter(run_program(program, {"x": x}).values()))
    s = scale.reshape(1, -1, 1, 1) if per_channel else scale
    z = zero.astype(np.float32).reshape(1, -1, 1, 1) if per_channel else np.float32(zero)
    want = s * (np.clip(np.rint(x / s) + z, -128, 127) - z)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert np.abs(got - x).max() > 1.0, "inputs beyond the int8 range must clip"


def test_activation_ranges_cover_every_computed_value(tmp_path):
    from imn_export.export.coreml_mil import activation_ranges

    path, _, x = _convert(tmp_path, ct.precision.FLOAT32)
    program = load_program(path)
    batches = [{"x": x.numpy()}, {"x": x.numpy() * 3 - 1}]
    stats = activation_ranges(program, batches)
    assert stats["x"] == {"rmin": pytest.approx(float((x * 3 - 1).min())),
                          "rmax": pytest.approx(float(x.max() * 3 - 1))}
    output = program.functions["main"].outputs[0].name
    values = [run_program(program, b)[output] for b in batches]
    assert stats[output]["rmax"] == pytest.approx(max(float(v.max()) for v in values))
    assert len(stats) > 5  # every op output, not only the graph's ends
