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
