import numpy as np
import pytest

from imn_export.donors.bank import IDENTITY_READ
from imn_export.donors.choice import bank_identities, donor_identities, encoder_fingerprint, identity_graph
from imn_export.nn.identity_encoder import IDENTITY_INPUT_SIZE, IdentityEncoder, IdentityEncoderConfig


@pytest.fixture(scope="module")
def encoder():
    import torch

    torch.manual_seed(0)
    return IdentityEncoder(IdentityEncoderConfig(input_size=IDENTITY_INPUT_SIZE, widths=(8, 8, 8, 8))).eval()


def _donors(count: int = 3, size: int = 64) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (count, size, size, 4), dtype=np.uint8)


def test_a_bank_without_kept_vectors_is_read_from_its_pixels(encoder):
    donors = _donors()
    assert bank_identities({}, donors, encoder) == donor_identities(identity_graph(encoder), donors)


def test_kept_vectors_are_used_only_with_the_encoder_that_read_them(encoder):
    donors = _donors()
    kept = [[1.0] + [0.0] * 127] * len(donors)
    entry = {IDENTITY_READ: {"encoder": encoder_fingerprint(encoder), "vectors": kept}}
    assert bank_identities(entry, donors, encoder) == kept
    with pytest.raises(ValueError, match="another identity encoder"):
        bank_identities({IDENTITY_READ: {"encoder": "0" * 64, "vectors": kept}}, donors, encoder)
    with pytest.raises(ValueError, match="3 donors"):
        bank_identities({IDENTITY_READ: {"encoder": encoder_fingerprint(encoder), "vectors": kept[:2]}},
                        donors, encoder)


def test_the_fingerprint_changes_with_the_weights(encoder):
    import copy

    import torch

    other = copy.deepcopy(encoder)
    with torch.no_grad():
        next(other.parameters()).add_(1e-3)
    assert encoder_fingerprint(other) != encoder_fingerprint(encoder) == encoder_fingerprint(copy.deepcopy(encoder))
