"""The PNG codecs of sdk/python/imn_sdk/photo_io.py: the fast path (libspng decode, fpng encode
with the metadata chunks spliced in) gives exactly Pillow's pixels and metadata, and everything
it does not handle still goes through Pillow."""

import io

import numpy as np
import pytest
from PIL import Image

from imn_sdk import photo_io
from imn_sdk.photo_io import encode_png_fast, read_photo, write_png


def test_the_fast_codecs_are_installed():
    # The SDK extra installs them (constraints.txt); without them the SDK falls back to Pillow,
    # which is slower, not different, so CI must not silently test only the fallback.
    assert photo_io.FAST_PNG, "pip install -c constraints.txt -e .[sdk] installs pyspng and fpng"


@pytest.mark.parametrize("with_alpha", [False, True])
def test_fast_png_round_trips_pixels_text_and_chunks(astronaut, tmp_path, with_alpha):
    alpha = np.arange(astronaut.shape[0] * astronaut.shape[1], dtype=np.uint32).reshape(astronaut.shape[:2])
    alpha = (alpha % 251).astype(np.uint8) if with_alpha else None
    text = {"imn": '{"format":1,"note":"caf\u00e9"}'}
    chunks = {b"imSd": bytes(range(256)) * 3}
    path = write_png(tmp_path / "a.png", astronaut, alpha, text, chunks=chunks)
    photo = read_photo(path)
    assert np.array_equal(photo.rgb, astronaut)
    assert (photo.alpha is None) == (alpha is None) and (alpha is None or np.array_equal(photo.alpha, alpha))
    assert photo.text == text and photo.chunks[b"imSd"] == chunks[b"imSd"]
    with Image.open(path) as image:  # a standard PNG: Pillow reads the same
        assert image.text == text and dict((k, v) for k, v, *_ in image.private_chunks)[b"imSd"] == chunks[b"imSd"]
        assert np.array_equal(np.asarray(image.convert("RGB")), astronaut)


def test_fast_png_is_as_small_as_pillows(astronaut):
    ours = encode_png_fast(astronaut, None, {}, {})
    pillow = io.BytesIO()
    Image.fromarray(astronaut).save(pillow, format="PNG", compress_level=photo_io.PNG_COMPRESS_LEVEL)
    assert len(ours) < 1.1 * len(pillow.getvalue())


def test_text_after_the_pixels_is_still_found(astronaut, tmp_path):
    """A writer may put text after IDAT, where only a full decode reads it: Pillow then decodes."""
    plain = io.BytesIO()
    Image.fromarray(astronaut).save(plain, format="PNG")
    png = plain.getvalue()
    late = photo_io._chunk(b"iTXt", b"imn\0\0\0\0\0{}")
    data = png[:-12] + late + png[-12:]   # just before IEND
    path = tmp_path / "late.png"
    path.write_bytes(data)
    assert not photo_io._chunks_before_pixels(data)
    photo = read_photo(path)
    assert photo.text.get("imn") == "{}" and np.array_equal(photo.rgb, astronaut)


def test_what_the_fast_path_leaves_to_pillow(astronaut, tmp_path):
    gray = np.asarray(Image.fromarray(astronaut).convert("L"))
    Image.fromarray(gray).save(tmp_path / "g.png")
    photo = read_photo(tmp_path / "g.png")
    assert photo.mode == "L" and np.array_equal(photo.rgb[..., 0], gray)
    Image.fromarray(astronaut).save(tmp_path / "i.png", interlace=1)
    assert np.array_equal(read_photo(tmp_path / "i.png").rgb, astronaut)
    rotated = Image.fromarray(astronaut[:, :300])
    exif = rotated.getexif()
    exif[0x0112] = 6
    rotated.save(tmp_path / "r.png", exif=exif)
    photo = read_photo(tmp_path / "r.png")
    assert photo.rgb.shape == (300, 512, 3) and "EXIF orientation 6" in photo.notes[0]


def test_only_imns_own_chunk_must_be_unique(astronaut, tmp_path):
    png = encode_png_fast(astronaut, None, {}, {})
    twice = png[:33] + photo_io._chunk(b"prVW", b"a") + photo_io._chunk(b"prVW", b"b") + png[33:]
    (tmp_path / "v.png").write_bytes(twice)
    assert read_photo(tmp_path / "v.png").chunks[b"prVW"] == b"b"  # legal PNG: another app's chunks
    sealed_twice = png[:33] + photo_io._chunk(b"imSd", b"a") + photo_io._chunk(b"imSd", b"b") + png[33:]
    (tmp_path / "s.png").write_bytes(sealed_twice)
    from imn_sdk import InvalidImage
    with pytest.raises(InvalidImage, match="two imSd"):
        read_photo(tmp_path / "s.png")


def test_two_imn_chunks_are_refused(astronaut, tmp_path):
    """Readers differ on which of two records wins (Pillow the last, Kotlin and Swift the first):
    one file must not read as two different photos."""
    from imn_sdk import InvalidImage

    png = encode_png_fast(astronaut, None, {"imn": "{}"}, {})
    twice = png[:33] + photo_io._chunk(b"tEXt", b"imn\0{}") + png[33:]
    (tmp_path / "t.png").write_bytes(twice)
    with pytest.raises(InvalidImage, match="two imn"):
        read_photo(tmp_path / "t.png")
    with pytest.raises(InvalidImage, match="two imn"):
        read_photo(twice)
