"""imn protect / imn recover on files and folders (imn_export/cli/photos.py)."""

import numpy as np
from PIL import Image

from imn_export.cli.imn import main


def _write_photos(folder, astronaut):
    folder.mkdir()
    Image.fromarray(astronaut).save(folder / "one.jpg", quality=95)
    Image.fromarray(astronaut[:, ::-1]).save(folder / "two.png")
    (folder / "notes.txt").write_text("not a photo")
    Image.fromarray(np.full((300, 300, 3), 128, np.uint8)).save(folder / "empty.png")


def test_protect_and_recover_a_folder(bundle_dir, astronaut, tmp_path, capsys):
    photos = tmp_path / "photos"
    _write_photos(photos, astronaut)
    # empty.png has no face: reported, nothing written, exit status 1; the others are done.
    assert main(["protect", "--keyless", str(photos), "--bundle", str(bundle_dir), "--no-progress"]) == 1
    out = tmp_path / "photos-protected"
    assert sorted(p.name for p in out.iterdir()) == ["one.imn.png", "two.imn.png"]
    assert "no face to protect" in capsys.readouterr().err
    assert main(["recover", str(out), "--bundle", str(bundle_dir), "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / "photos-protected-recovered").iterdir()) == \
        ["one.recovered.png", "two.recovered.png"]


def test_single_photo_never_overwrites(bundle_dir, astronaut, tmp_path, capsys):
    source = tmp_path / "a.png"
    Image.fromarray(astronaut).save(source)
    assert main(["protect", "--keyless", str(source), "--bundle", str(bundle_dir)]) == 0
    masked = tmp_path / "a.imn.png"
    before = masked.read_bytes()
    assert main(["protect", "--keyless", str(source), "--bundle", str(bundle_dir)]) == 1
    assert "exists" in capsys.readouterr().err and masked.read_bytes() == before
    assert main(["recover", str(masked), "--bundle", str(bundle_dir), "--out", str(masked)]) == 1
    assert "refusing to write over the input" in capsys.readouterr().err
    assert main(["recover", str(source), "--bundle", str(bundle_dir)]) == 1
    assert "no IMN metadata" in capsys.readouterr().err


def test_missing_bundle_says_how_to_make_one(tmp_path, capsys):
    source = tmp_path / "a.png"
    Image.fromarray(np.zeros((300, 300, 3), np.uint8)).save(source)
    assert main(["protect", "--keyless", str(source), "--bundle", str(tmp_path / "nope")]) == 2
    assert "imn-export" in capsys.readouterr().err


def test_keygen_then_sealed_protect_and_recover(bundle_dir, astronaut, tmp_path, capsys):
    key = tmp_path / "key"
    assert main(["keygen", str(key)]) == 0
    assert main(["keygen", str(key)]) == 2 and "never replaced" in capsys.readouterr().err
    source = tmp_path / "a.png"
    Image.fromarray(astronaut).save(source)
    assert main(["protect", str(source), "--bundle", str(bundle_dir), "--key-file", str(key)]) == 0
    said = capsys.readouterr()
    assert "sealed" in said.out and "keyless" not in said.err
    masked = tmp_path / "a.imn.png"
    assert main(["recover", str(masked), "--bundle", str(bundle_dir)]) == 1
    assert "--key-file" in capsys.readouterr().err
    assert not (tmp_path / "a.recovered.png").exists()
    # A sealed photo needs the key, not a bundle.
    assert main(["recover", str(masked), "--bundle", str(tmp_path / "no-bundle"), "--key-file", str(key)]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "a.recovered.png")), astronaut)


def test_protect_needs_a_key_or_keyless(bundle_dir, astronaut, tmp_path, capsys, monkeypatch):
    source = tmp_path / "a.png"
    Image.fromarray(astronaut).save(source)
    assert main(["protect", str(source), "--bundle", str(bundle_dir)]) == 2
    err = capsys.readouterr().err
    assert "--keyless" in err and "anyone with an IMN bundle" in err
    assert not (tmp_path / "a.imn.png").exists()
    monkeypatch.setenv("IMN_PASSPHRASE", "hunter22")
    assert main(["protect", str(source), "--bundle", str(bundle_dir), "--passphrase"]) == 2
    assert "12 characters" in capsys.readouterr().err and not (tmp_path / "a.imn.png").exists()
    monkeypatch.setenv("IMN_PASSPHRASE", "violet tram under seven moons")
    assert main(["protect", str(source), "--bundle", str(bundle_dir), "--passphrase",
                 "--seal-quality", "compact"]) == 0
    assert main(["recover", str(tmp_path / "a.imn.png"), "--bundle", str(bundle_dir), "--passphrase"]) == 0


def test_an_existing_output_is_refused_before_any_work(bundle_dir, astronaut, tmp_path, capsys,
                                                        monkeypatch):
    import imn_sdk

    source = tmp_path / "a.png"
    Image.fromarray(astronaut).save(source)
    (tmp_path / "a.imn.png").write_bytes(b"keep me")
    ran = []
    monkeypatch.setattr(imn_sdk, "protect", lambda *a, **k: ran.append(1))
    assert main(["protect", "--keyless", str(source), "--bundle", str(bundle_dir)]) == 1
    err = capsys.readouterr().err
    assert not ran and (tmp_path / "a.imn.png").read_bytes() == b"keep me"
    assert "pass --overwrite to replace it" in err and "overwrite=True" not in err
    # Refused before protecting: the keyless notice concerns photos that were protected.
    assert "keyless" not in err


def test_messages_name_the_file_once_in_cli_words(bundle_dir, tmp_path, capsys):
    text = tmp_path / "text.png"
    text.write_text("not an image")
    assert main(["protect", "--keyless", str(text), "--bundle", str(bundle_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count("text.png") == 1 and "not an image" in err, err


def test_passphrase_without_a_terminal_says_how(bundle_dir, astronaut, tmp_path, capsys, monkeypatch):
    import io

    source = tmp_path / "a.png"
    Image.fromarray(astronaut).save(source)
    monkeypatch.delenv("IMN_PASSPHRASE", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["protect", str(source), "--bundle", str(bundle_dir), "--passphrase"]) == 2
    err = capsys.readouterr().err
    assert "IMN_PASSPHRASE" in err and "Traceback" not in err
    assert not (tmp_path / "a.imn.png").exists()


def test_keygen_makes_a_private_folder(tmp_path, monkeypatch):
    import os
    import stat

    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["keygen", "~/.imn/key"]) == 0
    folder = tmp_path / ".imn"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "key").stat().st_mode) == 0o600
    assert os.listdir(folder) == ["key"]


def test_a_key_file_for_a_keyless_photo_is_refused(bundle_dir, astronaut, tmp_path, capsys):
    key = tmp_path / "key"
    assert main(["keygen", str(key)]) == 0
    source = tmp_path / "a.png"
    Image.fromarray(astronaut).save(source)
    assert main(["protect", "--keyless", str(source), "--bundle", str(bundle_dir)]) == 0
    assert "keyless" in capsys.readouterr().err
    assert main(["recover", str(tmp_path / "a.imn.png"), "--bundle", str(bundle_dir),
                 "--key-file", str(key)]) == 1
    assert "keyless, not sealed" in capsys.readouterr().err
    assert not (tmp_path / "a.recovered.png").exists()


def test_photo_commands_describe_every_option():
    import argparse

    from imn_export.cli.imn import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for command in ("eval-photos", "eval-sealed", "bench-photo", "protect", "recover", "keygen"):
        bare = [a.dest for a in sub.choices[command]._actions if not a.help]
        assert not bare, f"imn {command}: no description for {bare}"


def test_masks_and_donor_options(bundle_dir, astronaut, tmp_path, capsys):
    import json

    source = tmp_path / "a.png"
    Image.fromarray(astronaut).save(source)
    assert main(["protect", "--keyless", str(source), "--bundle", str(bundle_dir), "--donor", "9",
                 "--out", str(tmp_path / "d.png")]) == 0
    with Image.open(tmp_path / "d.png") as image:
        record = json.loads(image.text["imn"])
    assert record["masks"] == "donors" and record["faces"][0]["donor"] == 9
    assert main(["protect", "--keyless", str(source), "--bundle", str(bundle_dir), "--masks", "masknet",
                 "--identity", "2", "--out", str(tmp_path / "m.png")]) == 0
    with Image.open(tmp_path / "m.png") as image:
        record = json.loads(image.text["imn"])
    assert record["masks"] == "masknet" and record["faces"][0]["identity"] == 2
    capsys.readouterr()
    assert main(["protect", "--keyless", str(source), "--bundle", str(bundle_dir), "--identity", "2"]) == 2
    assert "--masks masknet" in capsys.readouterr().err
    assert main(["protect", "--keyless", str(source), "--bundle", str(bundle_dir), "--donor", "640"]) == 1
    assert "donor 640 does not exist" in capsys.readouterr().err
    assert not (tmp_path / "a.imn.png").exists()
