import pytest
import torch

from imn_export.nn.hiding import HidingConfig, HidingNetwork

SMALL = HidingConfig(blocks=3, depth=3, growth=8)


@pytest.fixture()
def net() -> HidingNetwork:
    torch.manual_seed(0)
    net = HidingNetwork(SMALL)
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0.0, 0.03)
    return net.eval()


@pytest.mark.parametrize("size", [(32, 32), (48, 20), (2, 2)])
def test_hide_reveal_shapes_and_round_trip(net, size):
    protected, mask = torch.rand(2, 3, *size), torch.rand(2, 3, *size)
    with torch.no_grad():
        masked, lost = net.hide(protected, mask)
        recovered, mask_recovered = net.reveal(masked, lost)
    assert masked.shape == lost.shape == protected.shape
    assert (recovered - protected).abs().max() <= 1e-5
    assert (mask_recovered - mask).abs().max() <= 1e-5


def test_float64_round_trip_is_exact(net):
    net = net.double()
    protected, mask = torch.rand(1, 3, 16, 16, dtype=torch.float64), torch.rand(1, 3, 16, 16, dtype=torch.float64)
    with torch.no_grad():
        recovered, _ = net.reveal(*net.hide(protected, mask))
    assert (recovered - protected).abs().max() <= 1e-9


def test_wrong_aux_does_not_give_back_the_face(net):
    protected, mask = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        masked, lost = net.hide(protected, mask)
        recovered, _ = net.reveal(masked, torch.rand_like(lost))
    assert (recovered - protected).abs().max() > 1e-2


@pytest.mark.parametrize("protected,mask,error,match", [
    (torch.rand(1, 4, 8, 8), torch.rand(1, 4, 8, 8), ValueError, "3 \\(RGB\\) channels"),
    (torch.rand(3, 8, 8), torch.rand(3, 8, 8), ValueError, "\\(B, 3, H, W\\)"),
    (torch.rand(1, 3, 9, 8), torch.rand(1, 3, 9, 8), ValueError, "even"),
    (torch.rand(1, 3, 8, 8), torch.rand(1, 3, 16, 16), ValueError, "same shape"),
    (torch.randint(0, 255, (1, 3, 8, 8)), torch.randint(0, 255, (1, 3, 8, 8)), TypeError, "float"),
    (torch.rand(1, 3, 8, 8) * 255, torch.rand(1, 3, 8, 8), ValueError, "divide by 255"),
    (torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8).double(), TypeError, "share a dtype"),
    ("not a tensor", torch.rand(1, 3, 8, 8), TypeError, "torch.Tensor"),
])
def test_hide_rejects_bad_input_with_a_clear_message(net, protected, mask, error, match):
    with pytest.raises(error, match=match):
        net.hide(protected, mask)


def test_reveal_rejects_8bit_scale(net):
    with pytest.raises(ValueError, match="divide by 255"):
        net.reveal(torch.rand(1, 3, 8, 8) * 255, torch.zeros(1, 3, 8, 8))


def test_config_round_trips_and_rejects_unknown_fields():
    assert HidingConfig.from_dict(SMALL.to_dict()) == SMALL
    with pytest.raises(ValueError, match="unknown"):
        HidingConfig.from_dict({"blocks": 2, "colour": 1})
