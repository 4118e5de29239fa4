"""What the int8 exports quantize, per graph.

Hiding graphs: the coupling functions and nothing else. An affine coupling block is invertible
whatever its functions compute, as long as hide and reveal compute the same functions: quantizing
rho, phi and eta (every conv but the two fixed Haar convs) keeps the network a bijection in exact
arithmetic. Quantizing the coupling arithmetic or the wavelet instead would round the coefficient
branches themselves to 256 levels per tensor, where the hidden face lives in small high-frequency
coefficients beside a large low-frequency band: a full int8 graph lost 4-5 dB of recovery in a
first test (imn-export --size 64, 2 check pairs).

phi keeps float (statically unquantized) activations; its weights are still int8 (ONNX: a
DequantizeLinear initializer; LiteRT: dynamic-range int8, inputs quantized per inference from their
actual range, which costs 0.1 dB against weights alone and hides 1.4x faster; Core ML: int8
weights). Quantized activations make a function a staircase:
phi reads the protected branch, which reveal reconstructs only approximately (8-bit masked face,
aux instead of the lost information), and every input that crosses a rounding step moves the
mask branch by a whole output step, which rho and eta of the next block then amplify. Measured
with ONNX Runtime at 256x256 on the first 4 real faces (recovery drop vs the fp32 reference,
QAT weights): all three functions int8 -2.29 dB; phi float -1.36 dB; phi int8 weights only
-1.40 dB; rho or eta float instead -8.2 dB (the QAT weights had adapted to them); int8 weights
with 16-bit activations everywhere -0.25 dB. Invertibility with the true lost information went
from 0.30 to 0.016 max error.

Mask-net: every conv (weights and activations), which holds nearly all of its weights and
arithmetic; AdaIN's statistics, the resizes and the adds stay float. Its output is an ordinary
image, nothing is inverted. (A whole-graph int8 TFLite conversion broke on AdaIN's broadcast
in litert-torch 0.10's layout pass.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from torch import nn

from imn_export.nn.coupling import DenseBlock
from imn_export.nn.masknet import IdentityInjectionBlock


@dataclass(frozen=True)
class QuantScope:
    module: type[nn.Module] | None   # ops inside modules of this type (TFLite); None = all ops
    onnx_nodes: re.Pattern | None     # ONNX node names to quantize; None = all nodes
    float_output_suffix: str | None   # convs whose module name ends so keep a float output
    description: str
    tflite_float_modules: tuple[type[nn.Module], ...] = ()  # kept float in TFLite only
    # Submodules (attribute names) inside ``module`` whose convs get no static int8 activations:
    # int8 weights alone (ONNX, Core ML) or dynamic-range int8 (LiteRT).
    float_activation_modules: tuple[str, ...] = ()
    # Core ML: convs whose weight names match get int8 activations (their inputs); the others
    # int8 weights alone. None: int8 weights alone everywhere.
    coreml_weights: re.Pattern | None = None

    @property
    def onnx_weight_only(self) -> re.Pattern | None:
        """ONNX node names of ``float_activation_modules`` ("/blocks.0/phi/hidden.0/Conv")."""
        if not self.float_activation_modules:
            return None
        return _named(self.float_activation_modules, "/", "/")

    @property
    def tflite_dynamic(self) -> re.Pattern | None:
        """LiteRT tensor names of ``float_activation_modules``, which carry the module path
        (".../imn_export.nn.coupling.DenseBlock_phi/torch.nn.modules.conv.Conv2d_0;2")."""
        if not self.float_activation_modules:
            return None
        return _named(self.float_activation_modules, rf".*\.{self.module.__name__}_", "/.*")


def _named(modules: tuple[str, ...], before: str, after: str) -> re.Pattern:
    """A pattern for any of ``modules``' attribute names between ``before`` and ``after``."""
    return re.compile(before + "(" + "|".join(map(re.escape, modules)) + ")" + after)


# The coupling functions with int8 weights and static int8 activations.
STATIC_INT8_FUNCTIONS = ("rho", "eta")


COUPLING_FUNCTIONS = QuantScope(
    module=DenseBlock,
    # Node names of the TorchScript ONNX exporter: "/blocks.0/rho/hidden.0/Conv", ...
    onnx_nodes=_named(STATIC_INT8_FUNCTIONS, "/", "/"),
    # The last conv of each function hands a float result to the coupling's add/sub: with an
    # int8 output, the TFLite converter makes that add/sub int8 too and rounds the branch.
    float_output_suffix=".out",
    description="int8 coupling functions rho and eta (dense blocks: convs, activations, concats); "
                "phi with int8 weights and float32 activations (LiteRT: dynamic-range int8); Haar "
                "transform and coupling add/mul/exp stay float32",
    float_activation_modules=("phi",),
    # Weight names of the converted program: "net_blocks_0_rho_hidden_0_weight", ...
    coreml_weights=_named(STATIC_INT8_FUNCTIONS, "_", "_"))

CONVOLUTIONS = QuantScope(module=nn.Conv2d, onnx_nodes=re.compile(r"/Conv(_\d+)?$"),
                          float_output_suffix=None,
                          description="int8 convs (per-channel weights, activations); AdaIN "
                                      "statistics, resizes and adds stay float32",
                          tflite_float_modules=(IdentityInjectionBlock,))

# What imn qat fake-quantizes for the hiding network.
QUANTIZED_MODULE = COUPLING_FUNCTIONS.module
WEIGHT_ONLY_MODULES = COUPLING_FUNCTIONS.float_activation_modules
