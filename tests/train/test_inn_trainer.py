import json

import pytest
import torch

from imn_export.nn.hiding import HidingConfig
from imn_export.weights import load_checkpoint, load_hiding_network
from imn_export.train.inn_trainer import TrainConfig, learning_rate, train_inn

TINY = HidingConfig(blocks=2, depth=2, growth=8)


def _config(data, out, **overrides):
    base = dict(data=str(data), out=str(out), steps=60, batch=4, patch=16, lr=2e-3,
                hiding=TINY, checkpoint_every=30, val_every=30, val_images=2, progress=False)
    return TrainConfig(**{**base, **overrides})


def test_training_smoke_run_lowers_the_loss(tiny_faces, tmp_path):
    summary = train_inn(_config(tiny_faces, tmp_path / "run", steps=120, val_every=20))
    log = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    first, last = log[0], log[-1]
    assert summary["steps"] == 120
    # Fresh network: masked == Mask, recovered == 0; training must improve recovery a lot.
    assert last["val_recovered_psnr"] > first["val_recovered_psnr"] + 3
    assert last["recovering"] < first["recovering"]
    net, meta = load_hiding_network(tmp_path / "run" / "last.pt")
    assert meta["step"] == 120 and meta["aux"]["kind"] == "zeros"


def test_same_seed_gives_the_same_weights(tiny_faces, tmp_path):
    train_inn(_config(tiny_faces, tmp_path / "a", steps=15))
    train_inn(_config(tiny_faces, tmp_path / "b", steps=15))
    a = load_checkpoint(tmp_path / "a" / "last.pt")["model"]
    b = load_checkpoint(tmp_path / "b" / "last.pt")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_continues_and_matches_an_uninterrupted_run(tiny_faces, tmp_path):
    train_inn(_config(tiny_faces, tmp_path / "full", steps=40))
    train_inn(_config(tiny_faces, tmp_path / "split", steps=20))
    summary = train_inn(_config(tiny_faces, tmp_path / "split", steps=40), resume=True)
    assert summary["steps"] == 40
    a = load_checkpoint(tmp_path / "full" / "last.pt")["model"]
    b = load_checkpoint(tmp_path / "split" / "last.pt")["model"]
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_existing_run_is_never_overwritten(tiny_faces, tmp_path):
    train_inn(_config(tiny_faces, tmp_path / "run", steps=5))
    with pytest.raises(FileExistsError, match="--resume"):
        train_inn(_config(tiny_faces, tmp_path / "run", steps=5))


def test_resume_without_checkpoint_is_an_error(tiny_faces, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        train_inn(_config(tiny_faces, tmp_path / "none"), resume=True)


def test_learning_rate_warms_up_then_decays():
    config = TrainConfig(data="", out="", steps=1000, lr=1e-3)
    assert learning_rate(0, config) < learning_rate(99, config) == pytest.approx(1e-3)
    assert learning_rate(999, config) == pytest.approx(1e-3 * config.min_lr_fraction, rel=1e-2)


def test_checkpoint_loading_refuses_pickled_code(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("this must not run",))

    path = tmp_path / "evil.pt"
    torch.save({"model": Evil()}, path)
    with pytest.raises(ValueError, match="not a readable IMN checkpoint"):
        load_checkpoint(path)
    with pytest.raises(ValueError, match="not a readable"):
        (tmp_path / "junk.pt").write_bytes(pickle.dumps("junk")[:5])
        load_checkpoint(tmp_path / "junk.pt")


def test_keyed_training_scrambles_each_cover_or_face_with_its_own_key(tiny_faces, tmp_path):
    import numpy as np

    from imn_export.train.inn_trainer import scramble_batch
    faces = torch.rand(3, 3, 16, 16)
    scrambled = scramble_batch(faces, 8, np.random.default_rng(0))
    assert scrambled.shape == faces.shape
    # Same pixels, other places: a permutation of 8x8 pieces (each maybe turned).
    assert torch.allclose(scrambled.flatten(1).sort(1).values, faces.flatten(1).sort(1).values)
    for target in ("cover", "face"):
        train_inn(_config(tiny_faces, tmp_path / target, steps=4, key_piece=8, key_target=target))
        config = load_checkpoint(tmp_path / target / "last.pt")["config"]
        assert (config["key_piece"], config["key_target"]) == (8, target)
    with pytest.raises(ValueError, match="must divide"):
        train_inn(_config(tiny_faces, tmp_path / "bad", steps=4, key_piece=12))
    with pytest.raises(ValueError, match="key_target"):
        train_inn(_config(tiny_faces, tmp_path / "bad-target", steps=4, key_piece=8, key_target="mask"))


def test_configs_from_before_key_target_scrambled_faces():
    from imn_export.train.inn_trainer import TrainConfig
    old = TrainConfig(data="d", out="o", key_piece=32).to_dict()
    del old["key_target"]
    assert TrainConfig.from_dict(old).key_target == "face"


def test_donor_masks_drawn_once_train_and_validate_under_donors(tiny_faces, tmp_path, monkeypatch):
    import numpy as np

    from imn_export.donors.bank import Donor, write_bank
    from imn_export.train import inn_trainer
    from imn_sdk.masks import region_box

    rng = np.random.default_rng(0)
    donors = [Donor(np.dstack([rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),
                               np.full((32, 32, 1), 255, np.uint8)]), np.zeros(128, np.float32), 0.6)
              for _ in range(3)]
    write_bank(donors, tmp_path / "bank", 32, region_box(32), {})
    config = _config(tiny_faces, tmp_path / "run", steps=4, donors=str(tmp_path / "bank"), donor_draws=2)
    seen = []
    real_validate = inn_trainer.validate

    def spy(net, faces, cfg, masks=None):
        seen.append(masks)
        return real_validate(net, faces, cfg, masks)

    monkeypatch.setattr(inn_trainer, "validate", spy)
    summary = train_inn(config)
    assert summary["steps"] == 4
    # judged under the donor Masks of the validation faces, not the next face
    assert seen and all(m is not None and m.shape[1:] == (3, 32, 32) for m in seen)


def test_donor_draws_need_donors_and_are_not_negative(tiny_faces, tmp_path):
    with pytest.raises(ValueError, match="needs --donors"):
        train_inn(_config(tiny_faces, tmp_path / "a", steps=1, donor_draws=2))
    with pytest.raises(ValueError, match=">= 0"):
        train_inn(_config(tiny_faces, tmp_path / "b", steps=1, donors="", donor_draws=-1))


def test_a_smaller_network_starts_from_some_of_the_teachers_blocks(tiny_faces, tmp_path):
    from imn_export.train.inn_trainer import initial_weights

    teacher_config = HidingConfig(blocks=4, depth=2, growth=8)
    teacher = {"hiding_config": teacher_config.to_dict(),
               "model": {f"blocks.{i}.w": torch.full((1,), float(i)) for i in range(4)}}
    small = HidingConfig(blocks=2, depth=2, growth=8)

    def picked(how):
        state = initial_weights(teacher, _config(tiny_faces, tmp_path, hiding=small, init_blocks=how))
        return [float(state[f"blocks.{i}.w"]) for i in range(2)]

    assert picked("first") == [0.0, 1.0] and picked("spread") == [0.0, 3.0]
    with pytest.raises(ValueError, match="architecture"):
        initial_weights(teacher, _config(tiny_faces, tmp_path, hiding=small))          # "all"
    with pytest.raises(ValueError, match="same shape"):
        initial_weights(teacher, _config(tiny_faces, tmp_path, init_blocks="first",
                                         hiding=HidingConfig(blocks=2, depth=3, growth=8)))


def test_a_spread_subset_of_a_trained_network_runs_and_trains(tiny_faces, tmp_path):
    train_inn(_config(tiny_faces, tmp_path / "teacher", steps=4))
    summary = train_inn(_config(tiny_faces, tmp_path / "student", steps=4, hiding=HidingConfig(blocks=1, depth=2, growth=8),
                                init_from=str(tmp_path / "teacher" / "last.pt"), init_blocks="spread"))
    net, _ = load_hiding_network(tmp_path / "student" / "last.pt")
    assert summary["steps"] == 4 and len(net.blocks) == 1
