import torch

from imn_export.nn.batch_norm import fold_batch_norms
from imn_export.nn.masknet import MaskNet, MaskNetConfig


def test_folding_batch_norms_keeps_the_function():
    torch.manual_seed(0)
    net = MaskNet(MaskNetConfig(work_size=32))
    net.train()
    net(torch.rand(4, 3, 32, 32), torch.nn.functional.normalize(torch.randn(4, 128), dim=1))
    net.eval()  # running statistics are no longer the identity
    folded = fold_batch_norms(net)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    face, identity = torch.rand(1, 3, 32, 32), torch.nn.functional.normalize(torch.randn(1, 128), dim=1)
    assert torch.allclose(folded(face, identity), net(face, identity), atol=1e-5)
