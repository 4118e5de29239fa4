"""Quantization-aware fine-tuning of the coupling functions (``imn qat``).

Fake-quantizes what the int8 exports quantize (``nn/quant_scope.py``): every conv inside
rho and eta gets int8 per-channel symmetric weights and an 8-bit asymmetric per-tensor input, as
ONNX Runtime's QDQ and LiteRT's PT2E int8 compute them; phi's convs get int8 weights and keep
float inputs. Rounding passes its gradient straight through (torch's fake-quantize ops), so
training under the usual losses and the 8-bit masked face teaches the network to tolerate int8
coupling functions. Parameters keep their names:
the result is an ordinary float checkpoint, which the int8 exports then calibrate and quantize.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from imn_export.nn.quant_scope import QUANTIZED_MODULE, WEIGHT_ONLY_MODULES

ACTIVATION_LEVELS = 255  # 8-bit asymmetric: [0, 255] with a zero point
WEIGHT_LEVEL = 127  # int8 symmetric: [-127, 127]
RANGE_MOMENTUM = 0.01  # exponential moving average of the observed min/max


class FakeQuantConv2d(nn.Conv2d):
    """``nn.Conv2d`` computing with fake-quantized input and weights; same parameters and names.

    The observed input range lives in non-persistent buffers, so checkpoints stay loadable by a
    plain :class:`~imn_export.nn.hiding.HidingNetwork`.
    """

    quantize_input: bool = True

    def init_ranges(self, quantize_input: bool = True) -> None:
        self.quantize_input = quantize_input
        device = self.weight.device
        self.register_buffer("input_min", torch.zeros((), device=device), persistent=False)
        self.register_buffer("input_max", torch.zeros((), device=device), persistent=False)
        self.register_buffer("observed", torch.zeros((), dtype=torch.bool, device=device),
                             persistent=False)

    @torch.no_grad()
    def _observe(self, x: torch.Tensor) -> None:
        low, high = x.min().clamp(max=0), x.max().clamp(min=0)
        if not bool(self.observed):
            self.input_min.copy_(low)
            self.input_max.copy_(high)
            self.observed.fill_(True)
        else:
            self.input_min.lerp_(low, RANGE_MOMENTUM)
            self.input_max.lerp_(high, RANGE_MOMENTUM)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.quantize_input:
            if self.training:
                self._observe(x)
            scale = ((self.input_max - self.input_min) / ACTIVATION_LEVELS).clamp(min=1e-8).float()
            zero_point = torch.round(-self.input_min / scale).clamp(0, ACTIVATION_LEVELS).int()
            x = torch.fake_quantize_per_tensor_affine(x, scale, zero_point, 0, ACTIVATION_LEVELS)
        w_scale = (self.weight.detach().abs().amax(dim=(1, 2, 3)) / WEIGHT_LEVEL).clamp(min=1e-8)
        weight = torch.fake_quantize_per_channel_affine(
            self.weight, w_scale.float(), torch.zeros_like(w_scale, dtype=torch.int32), 0,
            -WEIGHT_LEVEL, WEIGHT_LEVEL)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


def enable_fake_quant(net: nn.Module) -> int:
    """Turn every conv of every coupling function of ``net`` into a :class:`FakeQuantConv2d`,
    in place (same parameter objects); those of ``WEIGHT_ONLY_MODULES`` keep float inputs.
    Returns how many convs were converted."""
    converted = 0
    for name, module in net.named_modules():
        if isinstance(module, QUANTIZED_MODULE):
            weight_only = name.rsplit(".", 1)[-1] in WEIGHT_ONLY_MODULES
            for conv in module.modules():
                if type(conv) is nn.Conv2d:
                    conv.__class__ = FakeQuantConv2d
                    conv.init_ranges(quantize_input=not weight_only)
                    converted += 1
    if not converted:
        raise ValueError(f"no {QUANTIZED_MODULE.__name__} conv found to fake-quantize")
    return converted
