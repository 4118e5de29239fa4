import torch

from imn_export.nn.hiding import HidingConfig, HidingNetwork
from imn_export.verify.invertibility import TOLERANCES, verify_invertibility


def _random_net() -> HidingNetwork:
    torch.manual_seed(0)
    net = HidingNetwork(HidingConfig(blocks=3, depth=3, growth=8))
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0.0, 0.03)
    return net


def test_verify_passes_random_and_real_inputs_in_both_precisions():
    cases = verify_invertibility(_random_net(), sizes=((32, 32), (64, 48)))
    assert {c.dtype for c in cases} == {"float32", "float64"}
    assert any(c.source.startswith("astronaut") for c in cases)
    assert all(c.passed for c in cases), [c for c in cases if not c.passed]
    assert max(c.recovered_error for c in cases if c.dtype == "float64") <= TOLERANCES[torch.float64]


class _SkewedReveal(HidingNetwork):
    """A network whose reveal no longer mirrors hide by 1e-3: verify must flag it."""

    def reveal(self, masked, aux):
        recovered, mask_recovered = super().reveal(masked, aux)
        return recovered + 1e-3, mask_recovered


def test_verify_catches_a_broken_inverse():
    net = _SkewedReveal(HidingConfig(blocks=2, depth=2, growth=4))
    cases = verify_invertibility(net, sizes=((32, 32),))
    assert cases and not any(c.passed for c in cases)
