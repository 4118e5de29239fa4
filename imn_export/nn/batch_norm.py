"""BatchNorm folded into the convolutions before export."""

from __future__ import annotations

import copy

from torch import nn


def fold_batch_norms(module: nn.Module) -> nn.Module:
    """A copy of ``module`` (eval) with every ``Conv2d`` directly followed by a ``BatchNorm2d`` in a
    ``Sequential`` fused into one conv: fewer ops, and no integer BatchNorm buffers for the int8
    quantizers to trip over."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    module = copy.deepcopy(module).eval()
    for seq in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        names = list(seq._modules)
        for a, b in zip(names, names[1:]):
            conv, norm = seq._modules[a], seq._modules[b]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                seq._modules[a] = fuse_conv_bn_eval(conv, norm)
                seq._modules[b] = nn.Identity()
    return module
