import numpy as np
import pytest
import torch

from imn_export.data import OtherFaceMask, PairSampler, load_faces, split_train_val
from imn_export.io import list_images


def test_split_is_deterministic_and_disjoint(tiny_faces):
    paths = list_images(tiny_faces)
    train, val = split_train_val(paths)
    assert [p.name for p in val] == ["0000.png", "0013.png"]
    assert not set(train) & set(val) and len(train) + len(val) == len(paths)


def test_load_faces_rejects_mixed_sizes(tmp_path, tiny_faces):
    from PIL import Image
    Image.new("RGB", (16, 16)).save(tiny_faces / "9999.png")
    with pytest.raises(ValueError, match="share a size"):
        load_faces(list_images(tiny_faces), progress=False)


def test_other_face_mask_never_picks_the_same_face():
    faces = torch.arange(5, dtype=torch.uint8).view(5, 1, 1, 1).expand(5, 3, 2, 2).contiguous()
    g = torch.Generator().manual_seed(0)
    index = torch.arange(5).repeat(40)
    masks = OtherFaceMask()(faces, index, g)
    assert not torch.any(masks[:, 0, 0, 0] == index.to(torch.uint8))


def test_pair_sampler_shapes_and_range(tiny_faces):
    faces = load_faces(list_images(tiny_faces), progress=False)
    g = torch.Generator().manual_seed(0)
    sampler = PairSampler(faces, batch=4, patch=16, device=torch.device("cpu"), generator=g)
    protected, mask = sampler.sample()
    assert protected.shape == mask.shape == (4, 3, 16, 16)
    assert protected.dtype == torch.float32 and 0 <= protected.min() and protected.max() <= 1
    assert not torch.equal(protected, mask)


def test_pair_sampler_rejects_odd_or_large_patch(tiny_faces):
    faces = load_faces(list_images(tiny_faces), progress=False)
    g = torch.Generator()
    for patch in (15, 64):
        with pytest.raises(ValueError, match="patch"):
            PairSampler(faces, 2, patch, torch.device("cpu"), g)


def _tiny_donors(size: int = 32, count: int = 3) -> np.ndarray:
    rng = np.random.default_rng(1)
    donors = rng.integers(0, 256, (count, size, size, 4), dtype=np.uint8)
    donors[..., 3] = 255
    return donors


def test_donor_mask_draws_are_composed_once_and_agree_across_workers(tiny_faces):
    from imn_export.data import DonorMask
    from imn_sdk.masks import compose

    faces = load_faces(list_images(tiny_faces), progress=False)
    donors = _tiny_donors()
    one = DonorMask(donors, draws=2, workers=1, seed=3).precompute(faces)
    two = DonorMask(donors, draws=2, workers=2, seed=3).precompute(faces)
    assert one.shape == (faces.shape[0], 2, 3, 32, 32) and torch.equal(one, two)
    face = faces[5].permute(1, 2, 0).numpy()
    possible = [compose(face, d) for d in donors]
    for j in range(2):
        got = one[5, j].permute(1, 2, 0).numpy()
        assert any(np.array_equal(got, p) for p in possible)

    source = DonorMask(donors, draws=2)
    generator = torch.Generator().manual_seed(0)
    batch = source(faces, torch.tensor([5, 5, 0]), generator)
    assert source.pool is not None and batch.shape == (3, 3, 32, 32)
    assert any(torch.equal(batch[0], source.pool[5, j]) for j in range(2))
