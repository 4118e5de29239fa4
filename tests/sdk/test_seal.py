"""Sealed recovery (sdk/python/imn_sdk/seal.py, sdk/spec/photo.md §7): pixels coded without loss,
keys from standard primitives, the record bound to the ciphertext, refusals before any output,
and a sealed photo's pixels carrying nothing of the face that the public reveal graph can find."""

import json

import numpy as np
import pytest
from PIL import Image

from imn_export.metrics import image_metrics
from imn_sdk import ImageModified, KeyRequired, Secret, WrongKey, generate_key, protect, recover
from imn_sdk import metadata, seal
from imn_sdk.metadata import InvalidMetadata, dump_record, parse_record
from imn_sdk.photo_io import read_photo

PASSPHRASE = "violet tram under seven moons"


def test_plane_residuals_invert_exactly():
    rng = np.random.default_rng(0)
    for shape in ((1, 1, 3), (7, 13, 3), (64, 48, 3)):
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        assert np.array_equal(seal.plane_pixels(seal.plane_residuals(pixels)), pixels)
    smooth = np.tile(np.arange(64, dtype=np.uint8)[None, :, None], (64, 1, 3))
    assert np.count_nonzero(seal.plane_residuals(smooth)) <= 64 * 3 * 2  # first row and column only


def test_compact_step_keeps_every_pixel_within_one_level():
    values = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    back = seal.dequantize(seal.quantize(values, seal.STEPS["compact"]), seal.STEPS["compact"])
    assert np.abs(back.astype(int) - values).max() == 1


def test_pack_round_trip_and_refuses_anything_else():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    regions = [{"x": 0, "y": 0, "width": 20, "height": 10}, {"x": 30, "y": 20, "width": 30, "height": 20}]
    inner = {"faces": [{"box": [1, 2, 3, 4]}], "masks": "donors"}
    data = seal.pack(rgb, regions, inner, 1)
    got, pixels = seal.unpack(data, regions, 1)
    assert got == inner
    for r, p in zip(regions, pixels):
        assert np.array_equal(p, rgb[r["y"]:r["y"] + r["height"], r["x"]:r["x"] + r["width"]])
    for bad in (data[:-5], data + b"\x00", data[:3], b"\x00\x00\x00\x02{}" + data[6:]):
        with pytest.raises(ImageModified):
            seal.unpack(bad, regions, 1)
    with pytest.raises(ImageModified):  # more pixels than the regions hold
        seal.unpack(data, regions[:1], 1)


def test_passphrases_need_length_and_variety():
    seal.check_passphrase(PASSPHRASE)
    for weak, reason in (("short one", "12 characters"), ("aaaaaaaaaaaaaaaa", "different characters"),
                         ("9081726354091", "too easy")):
        with pytest.raises(seal.WeakPassphrase, match=reason):
            seal.check_passphrase(weak)
    # The same passphrase, composed or decomposed, gives the same bytes.
    assert seal.normalize_passphrase("caf\u00e9 au lait noir") == seal.normalize_passphrase("cafe\u0301 au lait noir")


def test_keys_are_salted_and_argon2id_stretches_passphrases():
    salt_a, salt_b = b"a" * 16, b"b" * 16
    key = Secret(key=generate_key())
    assert seal.derive_keys(key.key, salt_a) == seal.derive_keys(key.key, salt_a)
    assert seal.derive_keys(key.key, salt_a) != seal.derive_keys(key.key, salt_b)
    phrase = Secret(passphrase=PASSPHRASE)
    kdf = seal.kdf_entry(phrase)
    assert kdf["argon2id"]["memory_kib"] >= 65536  # the issue's floor: 64 MiB per guess
    material = seal.key_material(phrase, salt_a, kdf)
    assert len(material) == 32 and material != PASSPHRASE.encode()
    assert material == seal.key_material(Secret(passphrase=PASSPHRASE), salt_a, kdf)


@pytest.fixture(scope="module")
def sealed(bundle, astronaut, tmp_path_factory):
    secret = Secret(key=generate_key())
    result = protect(astronaut, bundle, secret=secret, donor=0)
    path = result.save(tmp_path_factory.mktemp("sealed") / "a.imn.png")
    return result, path, secret


def _region_box(record):
    (r,) = record["regions"]
    return slice(r["y"], r["y"] + r["height"]), slice(r["x"], r["x"] + r["width"])


def test_sealed_photo_recovers_bit_exact_without_a_bundle(sealed, astronaut, bundle):
    result, path, secret = sealed
    assert result.is_sealed and result.record["format"] == metadata.SEALED_FORMAT_VERSION
    recovered = recover(path, None, secret=secret)
    assert np.array_equal(recovered.rgb, astronaut)
    assert recovered.record["faces"][0]["donor"] == 0 and recovered.record["masks"] == "donors"
    assert np.array_equal(recover(path, bundle, secret=secret).rgb, astronaut)


def test_sealed_record_keeps_the_faces_and_the_key_out_of_the_clear(sealed):
    result, path, secret = sealed
    text = read_photo(path).text["imn"]
    record = json.loads(text)
    assert set(record) == {"format", "size", "regions", "digest", "sealed"}
    assert secret.key.hex() not in text and "landmarks" not in text and "donor" not in text
    assert "bundle" not in record and "faces" not in record


def test_sealed_pixels_show_the_mask_only(sealed, astronaut, bundle):
    """The issue's test: the public reveal graph, run on a sealed photo's masked tiles, gets no
    closer to the face than the Mask itself does."""
    from imn_sdk import tiles

    result, _, _ = sealed
    (r,) = result.record["regions"]
    box = (r["x"], r["y"], r["x"] + r["width"], r["y"] + r["height"])
    masked_psnr, revealed_psnr = [], []
    for x, y, _core in tiles.tile_layout(box, bundle.size):
        original = astronaut[y:y + bundle.size, x:x + bundle.size]
        masked = result.rgb[y:y + bundle.size, x:x + bundle.size]
        masked_psnr.append(image_metrics(original, masked)["psnr"])
        revealed_psnr.append(image_metrics(original, bundle.reveal(masked))["psnr"])
    assert max(revealed_psnr) <= max(masked_psnr)
    outside = np.ones(astronaut.shape[:2], bool)
    outside[_region_box(result.record)] = False
    assert np.array_equal(result.rgb[outside], astronaut[outside])


def test_wrong_or_missing_key_is_refused_before_decrypting(sealed, bundle):
    _, path, _ = sealed
    with pytest.raises(KeyRequired, match="sealed"):
        recover(path, bundle)
    with pytest.raises(WrongKey, match="wrong key"):
        recover(path, bundle, secret=Secret(key=generate_key()))
    with pytest.raises(WrongKey, match="passphrase"):
        recover(path, bundle, secret=Secret(passphrase=PASSPHRASE))


def _resave(path, out, text=None, data=None, drop=False):
    from imn_sdk.photo_io import write_png

    photo = read_photo(path)
    chunks = {} if drop else {seal.CHUNK_TYPE: data if data is not None else photo.chunks[seal.CHUNK_TYPE]}
    return write_png(out, photo.rgb, photo.alpha, {"imn": text or photo.text["imn"]}, chunks=chunks)


def test_tampering_is_refused(sealed, bundle, tmp_path):
    _, path, secret = sealed
    photo = read_photo(path)
    data = bytearray(photo.chunks[seal.CHUNK_TYPE])
    data[len(data) // 2] ^= 1
    with pytest.raises(ImageModified, match="altered"):
        recover(_resave(path, tmp_path / "c.png", data=bytes(data)), None, secret=secret)
    # A record edited (one byte of the geometry-free JSON) fails the tag, though it still parses.
    record = json.loads(photo.text["imn"])
    record["sealed"]["step"] = 3
    with pytest.raises(ImageModified, match="altered"):
        recover(_resave(path, tmp_path / "r.png", text=dump_record(record)), None, secret=secret)
    with pytest.raises(ImageModified, match="imSd"):
        recover(_resave(path, tmp_path / "d.png", drop=True), None, secret=secret)
    with pytest.raises(ImageModified, match="bytes"):
        recover(_resave(path, tmp_path / "t.png", data=bytes(data[:-1])), None, secret=secret)


def test_compact_is_smaller_and_within_one_level(bundle, astronaut, tmp_path):
    secret = Secret(passphrase=PASSPHRASE)
    lossless = protect(astronaut, bundle, secret=secret, donor=0)
    compact = protect(astronaut, bundle, secret=secret, donor=0, seal_quality="compact")
    assert len(compact.sealed) < 0.85 * len(lossless.sealed)
    recovered = recover(compact.save(tmp_path / "c.png"), None, secret=secret).rgb
    assert np.abs(recovered.astype(int) - astronaut).max() == 1
    assert image_metrics(astronaut[_region_box(compact.record)], recovered[_region_box(compact.record)])["psnr"] >= 48.1


def test_protect_needs_an_explicit_mode(bundle, astronaut):
    with pytest.raises(KeyRequired, match="keyless=True"):
        protect(astronaut, bundle)
    with pytest.raises(ValueError, match="not both"):
        protect(astronaut, bundle, secret=Secret(key=generate_key()), keyless=True)
    with pytest.raises(seal.WeakPassphrase):
        protect(astronaut, bundle, secret=Secret(passphrase="password1"))


SEALED = {"format": 2, "size": [64, 64], "regions": [{"x": 0, "y": 0, "width": 64, "height": 32}],
          "digest": "sha256:" + "0" * 64,
          "sealed": {"cipher": "aes-256-gcm", "kind": "passphrase",
                     "kdf": {"argon2id": {"memory_kib": 65536, "iterations": 3, "lanes": 1}, "then": "hkdf-sha256"},
                     "salt": "0" * 32, "nonce": "1" * 24, "check": "2" * 32, "pixels": "plane-deflate",
                     "step": 1, "bytes": 1000}}


def test_metadata_checks_the_sealed_entry():
    assert parse_record({"imn": dump_record(SEALED)})["sealed"]["kind"] == "passphrase"
    most = {**SEALED["sealed"], "kdf": {"argon2id": {"memory_kib": 1 << 18, "iterations": 10, "lanes": 8},
                                        "then": "hkdf-sha256"}}
    assert parse_record({"imn": dump_record({**SEALED, "sealed": most})})  # 256 MiB, 10 passes: the most
    entry = SEALED["sealed"]
    argon = entry["kdf"]["argon2id"]
    bad_entries = [{**entry, "cipher": "xor"}, {**entry, "kind": "pin"}, {**entry, "nonce": "1" * 23},
                   {**entry, "kdf": "hkdf-sha256"}, {**entry, "step": 0}, {**entry, "bytes": 10 ** 9},
                   {**entry, "kdf": {"argon2id": {**argon, "memory_kib": 1 << 30}, "then": "hkdf-sha256"}},
                   {**entry, "kdf": {"argon2id": {**argon, "memory_kib": (1 << 18) + 1}, "then": "hkdf-sha256"}},
                   {**entry, "kdf": {"argon2id": {**argon, "iterations": 1000}, "then": "hkdf-sha256"}}]
    for bad in bad_entries:
        with pytest.raises(InvalidMetadata):
            parse_record({"imn": dump_record({**SEALED, "sealed": bad})})
    for bad in ({**SEALED, "faces": []}, {**SEALED, "keyed": True}, {**SEALED, "format": 1},
                {**SEALED, "bundle": {"checkpoint_sha256": "a", "target": "onnx", "precision": "fp32", "tile": 64}},
                {k: v for k, v in SEALED.items() if k != "sealed"}):
        with pytest.raises(InvalidMetadata):
            parse_record({"imn": dump_record(bad)})


def test_a_sealed_grayscale_photo_comes_back_gray(bundle, astronaut, tmp_path):
    gray = np.asarray(Image.fromarray(astronaut).convert("L"))
    source = tmp_path / "g.png"
    Image.fromarray(gray).save(source)
    secret = Secret(key=generate_key())
    path = protect(source, bundle, secret=secret, donor=0).save(tmp_path / "g.imn.png")
    recovered = recover(path, None, secret=secret)
    out = recovered.save(tmp_path / "g.back.png")
    assert recovered.mode == "L" and np.array_equal(np.asarray(Image.open(out)), gray)


def test_edits_outside_the_regions_are_refused(sealed, tmp_path):
    """The sealed digest covers the whole image: recover promises the original bit for bit."""
    from imn_sdk.photo_io import write_png

    _, path, secret = sealed
    photo = read_photo(path)
    edited = photo.rgb.copy()
    edited[:4] = 255  # above the face region
    out = write_png(tmp_path / "e.png", edited, photo.alpha, {"imn": photo.text["imn"]},
                    chunks={seal.CHUNK_TYPE: photo.chunks[seal.CHUNK_TYPE]})
    with pytest.raises(ImageModified, match="changed after protection"):
        recover(out, None, secret=secret)


def test_secrets_stay_out_of_reprs():
    secret = Secret(key=bytes(range(32)))
    keys = seal.derive_keys(secret.key, bytes(16))
    assert bytes(range(32)).hex() not in repr(secret) and "\\x00\\x01" not in repr(secret)
    assert keys.aead_key.hex() not in repr(keys) and str(keys.aead_key) not in repr(keys)
    assert "moons" not in repr(Secret(passphrase=PASSPHRASE))


def test_a_deeply_nested_inner_header_is_refused():
    regions = [{"x": 0, "y": 0, "width": 2, "height": 2}]
    header = b"[" * 100000 + b"]" * 100000
    body = seal.pack(np.zeros((2, 2, 3), np.uint8), regions, {}, 1)
    plaintext = len(header).to_bytes(4, "big") + header + body[6:]  # pack's header is "{}"
    with pytest.raises(ImageModified):
        seal.unpack(plaintext, regions, 1)
