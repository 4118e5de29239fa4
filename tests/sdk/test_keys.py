"""Keyed photos of earlier releases (sdk/python/imn_sdk/keys.py; obfuscation, no longer written):
the scramble is exactly invertible, keys come from standard primitives, a wrong key is refused
before any pixel, and such photos still recover."""

import os
import stat

import numpy as np
import pytest

from imn_export.metrics import image_metrics
from imn_sdk import KeyRequired, Secret, WrongKey, generate_key, read_key_file, recover, write_key_file
from imn_sdk.errors import IMNError
from imn_sdk.keys import (check_value, new_key_record, open_key_record, random_scramble, scramble,
                          scramble_from_bytes, tile_scramble, unscramble)
from imn_sdk.metadata import InvalidMetadata, dump_record, parse_record
from tests.sdk.format1 import protect_keyed


def test_scramble_round_trip_is_exact():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (128, 96, 3), dtype=np.uint8)
    order, turns = random_scramble(4 * 3, rng)
    scrambled = scramble(image, order, turns)
    assert not np.array_equal(scrambled, image)
    assert np.array_equal(unscramble(scrambled, order, turns), image)


def test_scramble_from_bytes_is_a_permutation_and_deterministic():
    material = bytes(range(256)) * 3
    order, turns = scramble_from_bytes(material, 64)
    assert sorted(order.tolist()) == list(range(64)) and turns.max() < 8
    assert np.array_equal(scramble_from_bytes(material, 64)[0], order)
    with pytest.raises(ValueError, match="bytes of key material"):
        scramble_from_bytes(material[:10], 64)


def test_tiles_and_keys_get_different_scrambles():
    a, b = generate_key(), generate_key()
    assert len(a) == 32 and a != b
    first = tile_scramble(a, 0, 0, 0, 64)[0]
    assert not np.array_equal(first, tile_scramble(a, 0, 256, 0, 64)[0])
    assert not np.array_equal(first, tile_scramble(b, 0, 0, 0, 64)[0])


def test_check_value_is_not_the_key_and_wrong_keys_fail():
    secret = Secret(key=generate_key())
    record, photo_key = new_key_record(secret)
    assert secret.key.hex() not in dump_record(record) and photo_key.hex() not in dump_record(record)
    assert record["check"] == check_value(photo_key)
    assert open_key_record(record, secret) == photo_key
    with pytest.raises(WrongKey, match="wrong key"):
        open_key_record(record, Secret(key=generate_key()))
    with pytest.raises(KeyRequired, match="--key-file"):
        open_key_record(record, None)


def test_passphrase_is_salted_per_photo():
    secret = Secret(passphrase="correct horse battery")
    first, key1 = new_key_record(secret)
    second, key2 = new_key_record(secret)
    assert first["salt"] != second["salt"] and key1 != key2
    assert open_key_record(first, Secret(passphrase="correct horse battery")) == key1
    with pytest.raises(WrongKey):
        open_key_record(first, Secret(passphrase="wrong horse battery"))
    with pytest.raises(ValueError, match="8 characters"):
        Secret(passphrase="short")


def test_key_file(tmp_path):
    path = write_key_file(tmp_path / "k", generate_key())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(read_key_file(path)) == 32
    with pytest.raises(IMNError, match="never replaced"):
        write_key_file(path, generate_key())
    path.chmod(0o644)  # replacing a key file leaves it readable by its owner only
    write_key_file(path, generate_key(), overwrite=True)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    (tmp_path / "bad").write_text("imn-key-v1:zz")
    with pytest.raises(KeyRequired, match="hexadecimal"):
        read_key_file(tmp_path / "bad")
    with pytest.raises(KeyRequired, match="imn keygen"):
        read_key_file(tmp_path / "missing")


def test_metadata_checks_the_key_entry():
    record = {"format": 1, "size": [64, 64], "keyed": True,
              "bundle": {"checkpoint_sha256": "a", "target": "onnx", "precision": "fp32", "tile": 64},
              "regions": [{"x": 0, "y": 0, "width": 64, "height": 64}], "digest": "sha256:" + "0" * 64,
              "key": {"kind": "key", "salt": "0" * 32, "check": "1" * 32, "piece": 32}}
    assert parse_record({"imn": dump_record(record)})["keyed"]
    for scrambles in ("cover", "face"):
        assert parse_record({"imn": dump_record({**record, "key": {**record["key"], "scrambles": scrambles}})})
    for bad in ({"kind": "key"}, {**record["key"], "salt": "xyz"}, {**record["key"], "piece": 24},
                {**record["key"], "scrambles": "mask"}):
        with pytest.raises(InvalidMetadata):
            parse_record({"imn": dump_record({**record, "key": bad})})


@pytest.fixture(params=["cover", "face"])
def scrambles(request):
    """Photos of both keyed schemes (sdk/spec/photo.md §8): "face" is what the first keyed release
    wrote, "cover" the second."""
    return request.param


def test_keyed_photo_round_trip(bundle, astronaut, tmp_path, scrambles):
    secret = Secret(key=generate_key())
    result = protect_keyed(astronaut, bundle, secret, scrambles)
    assert result.record["keyed"] and result.record["key"]["kind"] == "key"
    assert result.record["key"]["scrambles"] == scrambles
    path = result.save(tmp_path / "k.png")
    (r,) = result.record["regions"]
    box = (slice(r["y"], r["y"] + r["height"]), slice(r["x"], r["x"] + r["width"]))
    right = recover(path, bundle, secret=secret).rgb
    # The test bundle's network is the keyless default (not trained on scrambles): the right key
    # still recovers the face well; the keyed network's figures are in README ("Keyed recovery").
    assert image_metrics(astronaut[box], right[box])["psnr"] >= 30
    outside = np.ones(astronaut.shape[:2], bool)
    outside[box] = False
    assert np.array_equal(right[outside], astronaut[outside])
    with pytest.raises(KeyRequired):
        recover(path, bundle)
    with pytest.raises(WrongKey):
        recover(path, bundle, secret=Secret(key=generate_key()))


def test_cover_scramble_hides_the_face_from_other_keys(bundle, astronaut, monkeypatch):
    """The masked tile of a "cover" photo reveals the face only when scrambled with its key.
    One fixed key and salt: over random keys the no-key reveal ranged 10.3-20.0 dB (40 keys)."""
    from imn_sdk import keys
    from tests.sdk.format1 import tile_scramble_of

    monkeypatch.setattr(keys.secrets, "token_bytes", lambda n: bytes(range(n)))
    result = protect_keyed(astronaut, bundle, Secret(key=bytes(range(32))))
    r = result.record["regions"][0]
    x, y, size = r["x"], r["y"], bundle.size
    masked, original = result.rgb[y:y + size, x:x + size], astronaut[y:y + size, x:x + size]
    for photo_key in (b"\x01" * 32, b"\x02" * 32):
        wrong = bundle.reveal(scramble(masked, *tile_scramble_of(photo_key, 0, x, y, size)))
        assert image_metrics(original, wrong)["psnr"] < 20
    assert image_metrics(original, bundle.reveal(masked))["psnr"] < 20
