import pytest
import torch

from imn_export.nn.identity_encoder import IdentityEncoder, IdentityEncoderConfig
from imn_export.nn.masknet import MaskNetConfig
from imn_export.train.checkpoint import ship_weights
from imn_export.weights import load_masknet
from imn_export.train.masknet_trainer import MaskNetTrainConfig, train_masknet


@pytest.fixture()
def identity_checkpoint(tmp_path):
    config = IdentityEncoderConfig(input_size=32, widths=(8, 8, 8, 8))
    torch.manual_seed(0)
    path = tmp_path / "identity.pt"
    torch.save({"model": IdentityEncoder(config).state_dict(), "identity_config": config.to_dict()},
               path)
    return path


def _config(tiny_faces, out, identity_checkpoint, **overrides):
    values = dict(data=str(tiny_faces), out=str(out), identity_encoder=str(identity_checkpoint),
                  steps=4, batch=2, size=32, checkpoint_every=2, progress=False,
                  masknet=MaskNetConfig(widths=(8, 16, 16), injection_blocks=1, enhancer_width=8,
                                        enhancer_blocks=1))
    values.update(overrides)
    return MaskNetTrainConfig(**values)


def test_smoke_run_resume_and_shipping(tiny_faces, tmp_path, identity_checkpoint):
    config = _config(tiny_faces, tmp_path / "run", identity_checkpoint)
    summary = train_masknet(config)
    assert summary["steps"] == 4 and 0 <= summary["transfer_rate"] <= 1
    with pytest.raises(FileExistsError):
        train_masknet(config)
    config = _config(tiny_faces, tmp_path / "run", identity_checkpoint, steps=6)
    assert train_masknet(config, resume=True)["steps"] == 6

    shipped = ship_weights(tmp_path / "run" / "last.pt", tmp_path / "masknet.pt",
                           keep=("masknet_config",))
    net = load_masknet(shipped)
    assert net.config.work_size == 32  # the graph resizes faces to the training size
    mask = net(torch.rand(1, 3, 64, 64), torch.nn.functional.normalize(torch.randn(1, 128), dim=1))
    assert mask.shape == (1, 3, 64, 64)


def test_fine_tune_from_a_run_with_a_separate_judge(tiny_faces, tmp_path, identity_checkpoint):
    first = _config(tiny_faces, tmp_path / "first", identity_checkpoint, steps=2)
    train_masknet(first)
    start = load_masknet(tmp_path / "first" / "last.pt").state_dict()
    judge = tmp_path / "judge.pt"
    torch.manual_seed(1)
    torch.save({"model": IdentityEncoder(IdentityEncoderConfig(input_size=32, widths=(8, 8, 8, 8))).state_dict(),
                "identity_config": IdentityEncoderConfig(input_size=32, widths=(8, 8, 8, 8)).to_dict()}, judge)
    tuned = _config(tiny_faces, tmp_path / "tuned", identity_checkpoint, steps=0,
                    init_from=str(tmp_path / "first" / "last.pt"), judge=str(judge))
    train_masknet(tuned)  # no step: the saved weights are exactly the ones it started from
    after = load_masknet(tmp_path / "tuned" / "last.pt").state_dict()
    assert all(torch.equal(start[k], after[k]) for k in start)

    other = _config(tiny_faces, tmp_path / "other", identity_checkpoint,
                    masknet=MaskNetConfig(widths=(8, 8, 8), injection_blocks=1, enhancer_width=8,
                                          enhancer_blocks=1),
                    init_from=str(tmp_path / "first" / "last.pt"))
    with pytest.raises(ValueError, match="architecture"):
        train_masknet(other)
