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
    assert main(["protect", str(photos), "--bundle", str(bundle_dir), "--no-progress"]) == 1
    out = tmp_path / "photos-protected"
    assert sorted(p.name for p in out.iterdir()) == ["one.imn.png", "two.imn.png"]
    assert "no face to protect" in capsys.readouterr().err
    assert main(["recover", str(out), "--bundle", str(bundle_dir), "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / "photos-protected-recovered").iterdir()) == \
        ["one.recovered.png", "two.recovered.png"]


def test_single_photo_never_overwrites(bundle_dir, astronaut, tmp_path, capsys):
    source = tmp_path / "a.png"
    Image.fromarray(astronaut).save(source)
    assert main(["protect", str(source), "--bundle", str(bundle_dir)]) == 0
    masked = tmp_path / "a.imn.png"
    before = masked.read_bytes()
    assert main(["protect", str(source), "--bundle", str(bundle_dir)]) == 1
    assert "exists" in capsys.readouterr().err and masked.read_bytes() == before
    assert main(["recover", str(masked), "--bundle", str(bundle_dir), "--out", str(masked)]) == 1
    assert "refusing to write over the input" in capsys.readouterr().err
    assert main(["recover", str(source), "--bundle", str(bundle_dir)]) == 1
    assert "no IMN metadata" in capsys.readouterr().err


def test_missing_bundle_says_how_to_make_one(tmp_path, capsys):
    source = tmp_path / "a.png"
    Image.fromarray(np.zeros((300, 300, 3), np.uint8)).save(source)
    assert main(["protect", str(source), "--bundle", str(tmp_path / "nope")]) == 2
    assert "imn-export" in capsys.readouterr().err


def test_keygen_then_keyed_protect_and_recover(bundle_dir, astronaut, tmp_path, capsys):
    key = tmp_path / "key"
    assert main(["keygen", str(key)]) == 0
    assert main(["keygen", str(key)]) == 2 and "never replaced" in capsys.readouterr().err
    source = tmp_path / "a.png"
    Image.fromarray(astronaut).save(source)
    assert main(["protect", str(source), "--bundle", str(bundle_dir), "--key-file", str(key)]) == 0
    assert "with the key" in capsys.readouterr().out
    masked = tmp_path / "a.imn.png"
    assert main(["recover", str(masked), "--bundle", str(bundle_dir)]) == 1
    assert "--key-file" in capsys.readouterr().err
    assert not (tmp_path / "a.recovered.png").exists()
    assert main(["recover", str(masked), "--bundle", str(bundle_dir), "--key-file", str(key)]) == 0
    assert (tmp_path / "a.recovered.png").exists()
