import numpy as np
import pytest

from imn_export.nn.identity_encoder import IdentityEncoderConfig
from imn_export.train.identity_trainer import (IdentityTrainConfig, train_identity_encoder,
                                               verification_report)


def test_verification_report_separates_clean_pairs():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((40, 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    mirrored = vectors + 0.05 * rng.standard_normal(vectors.shape)
    mirrored /= np.linalg.norm(mirrored, axis=1, keepdims=True)
    report = verification_report(vectors, mirrored, slice(0, 20), slice(20, None))
    assert report["accuracy"] == 1.0


def test_training_smoke_run_and_resume(tiny_faces, tmp_path):
    pytest.importorskip("dlib", reason="the teacher is the identity extra")
    config = IdentityTrainConfig(
        data=str(tiny_faces), out=str(tmp_path / "run"), steps=3, batch=4,
        encoder=IdentityEncoderConfig(input_size=32, widths=(8, 8, 8, 8)), max_shift=2,
        teacher_cache=str(tmp_path / "cache.npz"), checkpoint_every=2, progress=False)
    summary = train_identity_encoder(config)
    assert summary["steps"] == 3
    agreement = summary["agreement"]
    assert -1 <= agreement["cosine_mean"] <= 1 and agreement["val_faces"] == 2
    assert (tmp_path / "cache.npz").is_file()
    with pytest.raises(FileExistsError):
        train_identity_encoder(config)
    config.steps = 5
    assert train_identity_encoder(config, resume=True)["steps"] == 5


def test_fine_tune_with_mask_samples(tiny_faces, tmp_path, monkeypatch):
    pytest.importorskip("dlib", reason="the teacher is the identity extra")
    monkeypatch.chdir(tmp_path)  # the Mask samples' descriptor cache goes under runs/cache/
    encoder = IdentityEncoderConfig(input_size=32, widths=(8, 8, 8, 8))
    common = dict(data=str(tiny_faces), steps=2, batch=4, encoder=encoder, max_shift=2,
                  teacher_cache=str(tmp_path / "cache.npz"), progress=False)
    train_identity_encoder(IdentityTrainConfig(out=str(tmp_path / "base"), **common))
    masks = tmp_path / "masks"
    masks.mkdir()
    for path in sorted(tiny_faces.iterdir())[:4]:  # stand-ins for Mask faces
        (masks / path.name).write_bytes(path.read_bytes())
    summary = train_identity_encoder(IdentityTrainConfig(
        out=str(tmp_path / "tuned"), init_from=str(tmp_path / "base" / "last.pt"),
        mask_samples=str(masks), **common))
    assert summary["steps"] == 2
    assert (tmp_path / "runs" / "cache" / "dlib-masks.npz").is_file()
    wider = IdentityEncoderConfig(input_size=32, widths=(8, 8, 8, 16))
    with pytest.raises(ValueError, match="architecture"):
        train_identity_encoder(IdentityTrainConfig(
            out=str(tmp_path / "bad"), init_from=str(tmp_path / "base" / "last.pt"),
            **{**common, "encoder": wider}))
