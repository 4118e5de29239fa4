"""Network building blocks: Haar wavelet, invertible coupling, hiding network."""

from imn_export.nn.coupling import DenseBlock, InvertibleBlock
from imn_export.nn.hiding import HidingConfig, HidingNetwork
from imn_export.nn.wavelet import haar_dwt, haar_iwt, low_frequency

__all__ = [
    "DenseBlock",
    "HidingConfig",
    "HidingNetwork",
    "InvertibleBlock",
    "haar_dwt",
    "haar_iwt",
    "low_frequency",
]
