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
