"""MTCNN's three networks (Zhang et al. 2016) in PyTorch, with the weights the ``mtcnn`` PyPI
package ships as arrays (``mtcnn/assets/weights/{pnet,rnet,onet}.lz4``, a Keras port).

Why MTCNN: it is the only shipped detector we may use that also gives the five landmarks the
Mask-net crop is aligned by, and its three small graphs (0.5 MB in all) export to every target.
The cascade itself (pyramid, NMS, box regression) is plain array code and lives in the SDK
(``sdk/python/imn_sdk/detect.py``), so every runtime runs the same steps around the same graphs.

Each graph takes RGB in [0, 1] (the bundle's image convention) and normalises inside, as MTCNN
was trained: ``(255 x - 127.5) / 128``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
from torch import nn

INSTALL_HINT = "the MTCNN weights come from the mtcnn package: pip install -e '.[export]'"


def _normalise(image: torch.Tensor) -> torch.Tensor:
    return (image * 255.0 - 127.5) / 128.0


def _conv(cin: int, cout: int, k: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k), nn.PReLU(cout)]


class PNet(nn.Module):
    """Proposal net, fully convolutional: ``image (1, 3, H, W)`` -> ``offsets (1, 4, h, w)``,
    ``face_prob (1, h, w)`` with ``h = ceil((H - 2) / 2) - 4`` (one cell per 12-px window,
    stride 2)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(*_conv(3, 10, 3), nn.MaxPool2d(2, 2, ceil_mode=True),
                                  *_conv(10, 16, 3), *_conv(16, 32, 3))
        self.offsets = nn.Conv2d(32, 4, 1)
        self.classify = nn.Conv2d(32, 2, 1)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.body(_normalise(image))
        return self.offsets(x), torch.softmax(self.classify(x), dim=1)[:, 1]


class _Refiner(nn.Module):
    """RNet and ONet: a conv trunk, Keras' (W, H, C) flatten order, one dense layer, heads."""

    def __init__(self, trunk: list[nn.Module], flat: int, hidden: int, heads: dict[str, int]):
        super().__init__()
        self.trunk = nn.Sequential(*trunk)
        self.dense = nn.Linear(flat, hidden)
        self.act = nn.PReLU(hidden)
        self.heads = nn.ModuleDict({name: nn.Linear(hidden, n) for name, n in heads.items()})

    def features(self, patches: torch.Tensor) -> torch.Tensor:
        x = self.trunk(_normalise(patches))
        # The weights were trained behind Keras' Permute((2, 1, 3)) + Flatten on NHWC.
        return self.act(self.dense(x.permute(0, 3, 2, 1).flatten(1)))


class RNet(_Refiner):
    """Refine net: ``patches (N, 3, 24, 24)`` -> ``offsets (N, 4)``, ``face_prob (N,)``."""

    def __init__(self):
        super().__init__([*_conv(3, 28, 3), nn.MaxPool2d(3, 2, ceil_mode=True),
                          *_conv(28, 48, 3), nn.MaxPool2d(3, 2), *_conv(48, 64, 2)],
                         576, 128, {"offsets": 4, "classify": 2})

    def forward(self, patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.features(patches)
        return self.heads["offsets"](x), torch.softmax(self.heads["classify"](x), dim=1)[:, 1]


class ONet(_Refiner):
    """Output net: ``patches (N, 3, 48, 48)`` -> ``offsets (N, 4)``, ``landmarks (N, 10)`` (x1..x5,
    y1..y5 as shares of the box), ``face_prob (N,)``."""

    def __init__(self):
        super().__init__([*_conv(3, 32, 3), nn.MaxPool2d(3, 2, ceil_mode=True),
                          *_conv(32, 64, 3), nn.MaxPool2d(3, 2), *_conv(64, 64, 3),
                          nn.MaxPool2d(2, 2, ceil_mode=True), *_conv(64, 128, 2)],
                         1152, 256, {"offsets": 4, "landmarks": 10, "classify": 2})

    def forward(self, patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.features(patches)
        return (self.heads["offsets"](x), self.heads["landmarks"](x),
                torch.softmax(self.heads["classify"](x), dim=1)[:, 1])


def weights_dir() -> Path:
    spec = importlib.util.find_spec("mtcnn")
    if spec is None or spec.origin is None:
        raise ImportError(INSTALL_HINT)
    return Path(spec.origin).parent / "assets" / "weights"


def _keras_to_torch(arrays: list[np.ndarray], net: nn.Module) -> dict[str, torch.Tensor]:
    """Keras ``get_weights()`` order is the layers' order; so is our ``state_dict`` (conv weight,
    bias, PReLU weight, ..., dense, heads). Conv kernels are HWIO, dense kernels (in, out)."""
    state = {}
    names = list(net.state_dict())
    if len(names) != len(arrays):
        raise ValueError(f"{type(net).__name__}: {len(arrays)} arrays for {len(names)} tensors")
    for name, array in zip(names, arrays):
        if array.ndim == 4:
            array = array.transpose(3, 2, 0, 1)
        elif array.ndim == 2:
            array = array.T
        elif array.ndim == 3:  # PReLU alpha shared over H, W: (1, 1, C)
            array = array.reshape(-1)
        state[name] = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    return state


def load_mtcnn() -> dict[str, nn.Module]:
    """``{"pnet": PNet, "rnet": RNet, "onet": ONet}`` in eval mode with the shipped weights."""
    try:
        import joblib
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    folder = weights_dir()
    nets = {"pnet": PNet(), "rnet": RNet(), "onet": ONet()}
    for name, net in nets.items():
        net.load_state_dict(_keras_to_torch(joblib.load(folder / f"{name}.lz4"), net))
        net.eval()
    return nets
