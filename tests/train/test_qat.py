import torch
from torch import nn

from imn_export.nn.hiding import HidingConfig, HidingNetwork
from imn_export.weights import load_hiding_network
from imn_export.train.inn_trainer import TrainConfig, train_inn
from imn_export.train.qat import FakeQuantConv2d, enable_fake_quant

TINY = HidingConfig(blocks=2, depth=2, growth=8)


def _trained_like(config=TINY) -> HidingNetwork:
    torch.manual_seed(0)
    net = HidingNetwork(config)
    with torch.no_grad():  # non-zero last convs, so the coupling functions do something
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return net


def test_every_coupling_conv_and_nothing_else_is_converted():
    net = _trained_like(HidingConfig(blocks=3, depth=4, growth=8))
    keys = set(net.state_dict())
    assert enable_fake_quant(net) == 3 * 3 * 4  # blocks x (rho, phi, eta) x depth
    assert all(type(m) is not nn.Conv2d for m in net.modules())
    assert set(net.state_dict()) == keys, "checkpoints must stay loadable by a plain network"


def test_phi_keeps_float_inputs_and_int8_weights():
    net = _trained_like()
    enable_fake_quant(net)
    block = net.blocks[0]
    assert all(not c.quantize_input for c in block.phi.modules() if isinstance(c, FakeQuantConv2d))
    assert all(c.quantize_input for f in (block.rho, block.eta)
               for c in f.modules() if isinstance(c, FakeQuantConv2d))
    conv = block.phi.out
    conv.eval()
    x = torch.rand(1, conv.in_channels, 8, 8) * 3
    weight_only = conv(x)
    conv.quantize_input = True
    conv.init_ranges()
    conv.train()
    conv(x)
    assert not torch.equal(conv(x), weight_only)  # the input rounding is what phi is spared


def test_fake_quant_is_close_but_not_exact_and_passes_gradients():
    net = _trained_like()
    x, y = torch.rand(2, 1, 3, 32, 32)
    float_masked, _ = net.hide(x, y)
    enable_fake_quant(net)
    net.train()
    masked, lost = net.hide(x, y)
    error = (masked - float_masked).abs().max().item()
    assert 0 < error < 0.05
    (masked.square().mean() + lost.square().mean()).backward()
    convs = [m for m in net.modules() if isinstance(m, FakeQuantConv2d)]
    assert all(c.weight.grad is not None and c.weight.grad.abs().sum() > 0 for c in convs)


def test_qat_fake_quant_stays_invertible_with_the_true_lost():
    net = _trained_like()
    enable_fake_quant(net)
    net.train()
    net.hide(*torch.rand(2, 1, 3, 32, 32))  # observe ranges
    net.eval()
    x, y = torch.rand(2, 1, 3, 32, 32)
    with torch.no_grad():
        masked, lost = net.hide(x, y)
        recovered, _ = net.reveal(masked, lost)
    # Quantized coupling functions keep the block a bijection; only rare rounding-bin flips
    # between hide and reveal (float noise at a bin edge) leave an error.
    assert (recovered - x).abs().mean().item() < 1e-3


def test_qat_run_writes_a_plain_float_checkpoint(tiny_faces, tmp_path):
    config = TrainConfig(data=str(tiny_faces), out=str(tmp_path / "qat"), steps=20, batch=2,
                         patch=16, lr=1e-3, hiding=TINY, checkpoint_every=10, val_every=10,
                         val_images=2, progress=False, qat=True)
    summary = train_inn(config)
    assert summary["steps"] == 20
    net, meta = load_hiding_network(tmp_path / "qat" / "last.pt")
    assert meta["config"]["qat"] is True
    assert all(type(m) is not FakeQuantConv2d for m in net.modules())
