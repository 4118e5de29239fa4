import json

import pytest

from imn_export.cli.imn import build_parser, main

COMMANDS = ("train-inn", "eval", "verify", "sweep-lambda")


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(command in out for command in COMMANDS)


def test_help_groups_every_command_once_photos_first(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    epilog = capsys.readouterr().out.split("commands by what they are for:")[1]
    listed = [c.strip() for line in epilog.strip().splitlines() for c in line.split(":", 1)[1].split(",")]
    subcommands = build_parser()._subparsers._group_actions[0].choices
    assert sorted(listed) == sorted(subcommands) and listed[:2] == ["protect", "recover"]


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "--device" in capsys.readouterr().out


def test_eval_pairing_rule_is_documented(capsys):
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    assert "image i+1" in capsys.readouterr().out.replace("\n", " ").replace("  ", " ")


def test_missing_image_folder_is_a_clear_error(tmp_path, shipped_weights, capsys):
    code = main(["eval", "--weights", str(shipped_weights), "--images", str(tmp_path / "nope")])
    assert code == 2
    assert "image folder not found" in capsys.readouterr().err


def test_missing_weights_is_a_clear_error(tmp_path, tiny_faces, capsys):
    code = main(["eval", "--weights", str(tmp_path / "none.pt"), "--images", str(tiny_faces)])
    assert code == 2
    assert "checkpoint not found" in capsys.readouterr().err


def test_bad_ratio_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train-inn", "--data", "x", "--out", "y", "--ratio", "1:2"])
    assert "1:3:1" in capsys.readouterr().err


def test_train_then_eval_json(tiny_faces, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train-inn", "--data", str(tiny_faces), "--out", str(run), "--steps", "4",
                 "--batch", "2", "--patch", "16", "--blocks", "2", "--depth", "2", "--growth", "4",
                 "--device", "cpu", "--no-progress"]) == 0
    assert main(["train-inn", "--data", str(tiny_faces), "--out", str(run), "--steps", "4",
                 "--device", "cpu", "--no-progress"]) == 2
    assert "--resume" in capsys.readouterr().err
    out_json = tmp_path / "eval.json"
    assert main(["eval", "--weights", str(run / "last.pt"), "--images", str(tiny_faces),
                 "--limit", "3", "--json", str(out_json), "--device", "cpu", "--no-progress"]) == 0
    data = json.loads(out_json.read_text())
    assert data["n"] == 3 and {"recovered", "masked"} <= set(data["mean"])
    assert "mean (n=3)" in capsys.readouterr().out


@pytest.mark.slow
def test_verify_exits_zero_on_shipped_weights(shipped_weights, capsys):
    assert main(["verify", "--weights", str(shipped_weights), "--device", "cpu"]) == 0
    assert "ok:" in capsys.readouterr().out


@pytest.mark.parametrize("command", ("qat", "bench", "cross-runtime"))
def test_export_side_commands_have_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "--bundle" in capsys.readouterr().out or command == "qat"


def test_bench_without_a_bundle_says_how_to_make_one(tmp_path, capsys):
    assert main(["bench", "--bundle", str(tmp_path)]) == 2
    assert "imn-export --out" in capsys.readouterr().err


MASKNET_COMMANDS = ("train-identity", "eval-identity", "train-masknet", "make-presets", "eval-privacy",
                    "make-donors")


@pytest.mark.parametrize("command", MASKNET_COMMANDS)
def test_masknet_commands_have_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0


def test_eval_takes_masks_from_masknet(tiny_faces, tmp_path, shipped_weights, capsys):
    import numpy as np
    import torch

    from imn_export.nn.masknet import MaskNet, MaskNetConfig
    from imn_export.train.checkpoint import save_checkpoint

    config = MaskNetConfig(widths=(8, 8), injection_blocks=1, enhancer_width=4, enhancer_blocks=1,
                           work_size=32)
    masknet = tmp_path / "masknet.pt"
    save_checkpoint(masknet, {"model": MaskNet(config).state_dict(), "masknet_config": config.to_dict()})
    presets = tmp_path / "identities.npy"
    vectors = torch.nn.functional.normalize(torch.randn(3, 128), dim=1).numpy().astype(np.float32)
    np.save(presets, vectors)
    out_json = tmp_path / "eval.json"
    assert main(["eval", "--weights", str(shipped_weights), "--images", str(tiny_faces),
                 "--limit", "4", "--masknet", str(masknet), "--presets", str(presets),
                 "--json", str(out_json), "--device", "cpu", "--no-progress"]) == 0
    data = json.loads(out_json.read_text())
    assert data["mask_source"].startswith("Mask-net")
    assert [row["mask"] for row in data["images"]] == ["preset 0", "preset 1", "preset 2", "preset 0"]


def test_make_presets_never_overwrites(tmp_path, capsys):
    out = tmp_path / "me.npy"
    out.write_bytes(b"keep")
    from skimage.data import astronaut
    from PIL import Image
    face = tmp_path / "face.png"
    Image.fromarray(astronaut()[20:276, 110:366]).save(face)
    assert main(["make-presets", "--image", str(face), "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err and out.read_bytes() == b"keep"
    assert main(["make-presets", "--image", str(face), "--out", str(out), "--overwrite"]) == 0
    import numpy as np
    assert np.load(out).shape == (1, 128)


def test_recover_names_the_shipped_weights_an_older_photo_needs():
    """A keyless photo of an earlier default's bundle: the error says which bundle to export."""
    from imn_sdk.bundle import file_sha256

    from imn_export.cli.photos import _shipped_hint
    from imn_export.weights import MODELS_DIR, PAPER_WEIGHTS_NAME

    paper = MODELS_DIR / PAPER_WEIGHTS_NAME
    record = {"bundle": {"checkpoint_sha256": file_sha256(paper), "tile": 256}}
    hint = _shipped_hint(record, "ab" * 32)
    assert "models/imn-inn-paper.pt" in hint and f"--weights {paper} --out" in hint
    assert "--bundle dist-imn-inn-paper" in hint
    assert "--size 128" in _shipped_hint({"bundle": {**record["bundle"], "tile": 128}}, "ab" * 32)
    # The same checkpoint (a tile or file mismatch) or an unknown one: no hint.
    assert _shipped_hint(record, file_sha256(paper)) == ""
    assert _shipped_hint({"bundle": {"checkpoint_sha256": "0" * 64}}, "ab" * 32) == ""
    assert _shipped_hint({}, "ab" * 32) == ""
