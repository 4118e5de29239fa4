"""What the int8 exports quantize: the coupling functions rho, phi, eta and nothing else.

An affine coupling block is invertible whatever its functions compute, as long as hide and
reveal compute the same functions: quantizing rho, phi and eta (every conv but the two fixed Haar
convs) keeps the network an exact bijection. Quantizing the coupling arithmetic or the wavelet
instead would round the coefficient branches themselves to 256 levels per tensor, where the
hidden face lives in small high-frequency coefficients beside a large low-frequency band: a full
int8 graph lost 4-5 dB of recovery in a first test (imn-export --size 64, 2 check pairs).
"""

from __future__ import annotations

import re

from imn_export.nn.coupling import DenseBlock

QUANTIZED_MODULE = DenseBlock
# Node names of the TorchScript ONNX exporter: "/blocks.0/phi/hidden.0/Conv", ...
ONNX_NODE_PATTERN = re.compile(r"/(phi|rho|eta)/")
DESCRIPTION = ("int8 coupling functions (rho, phi, eta dense blocks: convs, activations, concats); "
               "Haar transform and coupling add/mul/exp stay float32")
