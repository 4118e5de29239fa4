import torch

from imn_export.nn.identity_encoder import IdentityEncoder, IdentityEncoderConfig

SMALL = IdentityEncoderConfig(input_size=32, widths=(8, 16, 16, 24), dim=16)


def test_vectors_are_unit_length_for_any_input_size():
    encoder = IdentityEncoder(SMALL).eval()
    for side in (32, 64, 100):
        v = encoder(torch.rand(3, 3, side, side))
        assert v.shape == (3, 16)
        assert torch.allclose(v.norm(dim=1), torch.ones(3), atol=1e-5)


def test_config_round_trips_through_a_dict():
    assert IdentityEncoderConfig.from_dict(SMALL.to_dict()) == SMALL
