"""Keyed recovery: only the holder of the key can put the Mask off.

Design (issue #6). Each 256-px tile of the *cover* (the Mask-blended photo) is *scrambled*
before hiding: cut into ``PIECE``-pixel pieces, the pieces permuted and each turned by one of the
8 square symmetries, all drawn from the key. The hiding network hides the plain original tile in
that scrambled cover, and the result is unscrambled back into place, so the masked photo looks
like the Mask and carries the face hidden in a key-dependent arrangement. Revealing scrambles the
masked tile with the key first; the network then finds the hidden face where it put it. A wrong
key (or none) shows the network the hidden pieces out of place: it returns a jigsaw of pieces,
not a face.

Scrambling the cover rather than the face (``SCRAMBLES``): a scrambled face is full of hard
piece borders the network must carry inside the Mask's pixels, which cost the masked image about
4 dB; a scrambled cover leaves the hidden face an ordinary image. Photos made by the first
keyed release scrambled the face, and their records say so (``"scrambles": "face"``, or no
entry); both are recovered.

Why this design rather than DKiS' key-driven sign masks inside the coupling: the graphs stay
exactly the ones already exported and checked (every target, precision and the cross-runtime
matrix keep working unchanged), the key never enters any model, and the scramble is a pure
index shuffle every SDK implements in a few lines. Its limit, stated plainly: it hides the face
from anyone without the key, but it is a permutation cipher over 8x8 pieces per 256-px tile;
a determined jigsaw solver could reassemble parts of a face. Treat it as access control for a
gallery, not as encryption.

Everything secret comes from standard primitives: 256-bit keys from ``secrets``; a passphrase
stretched with scrypt (hashlib) and a per-photo random salt; per-photo and per-tile material by
HKDF-SHA256 (``cryptography``); the key check value is an HMAC-SHA256 (hmac), never the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imn_sdk.errors import IMNError

PIECE = 32
KEY_BYTES = 32
KEY_FILE_PREFIX = "imn-key-v1:"
SCRYPT = {"n": 2 ** 15, "r": 8, "p": 1}
CHECK_INFO = b"imn key check v1"
SCRAMBLES = ("cover", "face")  # what the key scrambles; records without the entry: "face"


class WrongKey(IMNError):
    """The key does not open this photo (checked against the stored HMAC before any pixel)."""


class KeyRequired(IMNError):
    """A keyed photo opened without a key, or a key file that cannot be read."""


# ---- scrambling: pure index work, the same in every SDK ----

def scramble(image: np.ndarray, order: np.ndarray, turns: np.ndarray, piece: int = PIECE) -> np.ndarray:
    """Pieces of ``image (H, W, C)`` in ``order`` (output piece i is input piece order[i]),
    each then rotated by ``turns[i] % 4`` quarter turns and mirrored when ``turns[i] >= 4``."""
    h, w = image.shape[0] // piece, image.shape[1] // piece
    pieces = image.reshape(h, piece, w, piece, -1).swapaxes(1, 2).reshape(h * w, piece, piece, -1)
    out = np.empty_like(pieces)
    for i, (source, turn) in enumerate(zip(order, turns)):
        p = np.rot90(pieces[source], int(turn) % 4)
        out[i] = p[:, ::-1] if turn >= 4 else p
    return out.reshape(h, w, piece, piece, -1).swapaxes(1, 2).reshape(image.shape)


def unscramble(image: np.ndarray, order: np.ndarray, turns: np.ndarray, piece: int = PIECE) -> np.ndarray:
    """The inverse of ``scramble`` with the same ``order`` and ``turns``."""
    h, w = image.shape[0] // piece, image.shape[1] // piece
    pieces = image.reshape(h, piece, w, piece, -1).swapaxes(1, 2).reshape(h * w, piece, piece, -1)
    out = np.empty_like(pieces)
    for i, (source, turn) in enumerate(zip(order, turns)):
        p = pieces[i][:, ::-1] if turn >= 4 else pieces[i]
        out[source] = np.rot90(p, -(int(turn) % 4))
    return out.reshape(h, w, piece, piece, -1).swapaxes(1, 2).reshape(image.shape)


def random_scramble(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A uniformly random (order, turns) for training: a fresh key per sample."""
    return rng.permutation(count), rng.integers(0, 8, count)


def scramble_from_bytes(material: bytes, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(order, turns) for ``count`` pieces from ``9 * count`` key-derived bytes: order = the
    argsort of one big-endian uint64 per piece, turn = the next byte mod 8."""
    if len(material) < 9 * count:
        raise ValueError(f"need {9 * count} bytes of key material, got {len(material)}")
    values = np.frombuffer(material[:8 * count], dtype=">u8")
    turns = np.frombuffer(material[8 * count:9 * count], dtype=np.uint8) % 8
    return np.argsort(values, kind="stable"), turns.astype(np.int64)


# ---- keys ----

def generate_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def write_key_file(path: str | os.PathLike, key: bytes, overwrite: bool = False) -> Path:
    """``imn-key-v1:<64 hex>`` in a new file readable by its owner only; missing folders are made
    readable by their owner only (``~/.imn`` on a new machine)."""
    path = Path(path).expanduser()
    if path.exists() and not overwrite:
        raise IMNError(f"{path} exists; a key file is never replaced (photos protected with the "
                       "old key could not be recovered)", override="overwrite", purpose="replace it")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_TRUNC
    with os.fdopen(fd, "w") as f:
        f.write(KEY_FILE_PREFIX + key.hex() + "\n")
    return path


def read_key_file(path: str | os.PathLike) -> bytes:
    path = Path(path)
    if not path.is_file():
        raise KeyRequired(f"{path}: no such key file (make one with imn keygen)")
    text = path.read_text().strip()
    if not text.startswith(KEY_FILE_PREFIX):
        raise KeyRequired(f"{path} is not an IMN key file (it should start with {KEY_FILE_PREFIX})")
    try:
        key = bytes.fromhex(text[len(KEY_FILE_PREFIX):])
    except ValueError:
        raise KeyRequired(f"{path}: the key is not hexadecimal") from None
    if len(key) != KEY_BYTES:
        raise KeyRequired(f"{path}: a key has {KEY_BYTES} bytes, this one {len(key)}")
    return key


@dataclass(frozen=True)
class Secret:
    """What the user holds: a 256-bit key, or a passphrase (stretched per photo with scrypt)."""

    key: bytes | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)

    def __post_init__(self):
        if (self.key is None) == (self.passphrase is None):
            raise ValueError("give either a key or a passphrase")
        if self.passphrase is not None and len(self.passphrase) < 8:
            raise ValueError("a passphrase needs at least 8 characters")

    def photo_key(self, salt: bytes) -> bytes:
        """The per-photo key: HKDF-SHA256 over the key (or the scrypt-stretched passphrase)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        material = self.key if self.key is not None else hashlib.scrypt(
            self.passphrase.encode(), salt=salt, dklen=KEY_BYTES, maxmem=64 * 1024 * 1024, **SCRYPT)
        return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt,
                    info=b"imn photo key v1").derive(material)

    @property
    def kind(self) -> str:
        return "key" if self.key is not None else "passphrase"


def check_value(photo_key: bytes) -> str:
    return hmac.new(photo_key, CHECK_INFO, hashlib.sha256).hexdigest()[:32]


def tile_scramble(photo_key: bytes, region: int, x: int, y: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The scramble of the tile at (x, y) of region ``region``: HKDF-Expand of the photo key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

    material = HKDFExpand(algorithm=hashes.SHA256(), length=9 * count,
                          info=f"imn tile v1 {region} {x} {y}".encode()).derive(photo_key)
    return scramble_from_bytes(material, count)


def keyed_reveal(reveal: Callable[[np.ndarray], np.ndarray], tile: np.ndarray, photo_key: bytes,
                 scrambles: str, region: int, x: int, y: int) -> np.ndarray:
    """The recovered tile ``(S, S, 3)`` uint8 at photo position (x, y) of region ``region`` of a
    keyed photo (sdk/spec/photo.md §8): the key's scramble goes around the network where protect
    put it, on the masked tile before ``reveal`` (``"cover"``) or on the revealed face after it
    (``"face"``)."""
    order, turns = tile_scramble(photo_key, region, x, y, (tile.shape[0] // PIECE) ** 2)
    if scrambles == "cover":
        return reveal(scramble(tile, order, turns))
    return unscramble(reveal(tile), order, turns)


def new_key_record(secret: Secret, piece: int = PIECE, scrambles: str = "cover") -> tuple[dict, bytes]:
    """The metadata's ``key`` entry for a new photo, and its photo key."""
    if scrambles not in SCRAMBLES:
        raise ValueError(f"scrambles must be one of {SCRAMBLES}, not {scrambles!r}")
    salt = secrets.token_bytes(16)
    photo_key = secret.photo_key(salt)
    record = {"kind": secret.kind, "salt": salt.hex(), "check": check_value(photo_key),
              "piece": piece, "scrambles": scrambles, "kdf": "hkdf-sha256" if secret.kind == "key" else
              {"scrypt": SCRYPT, "then": "hkdf-sha256"}}
    return record, photo_key


def open_key_record(record: dict, secret: Secret | None) -> bytes:
    """The photo key for a keyed photo's ``key`` entry; ``WrongKey`` when the HMAC disagrees."""
    if secret is None:
        raise KeyRequired("this photo was protected with a key: pass its key file (--key-file) "
                          "or passphrase to recover it")
    try:
        salt = bytes.fromhex(record["salt"])
        expected = record["check"]
    except (KeyError, TypeError, ValueError):
        raise KeyRequired("the photo's key record is damaged") from None
    if record.get("kind") != secret.kind:
        raise WrongKey(f"this photo was protected with a {record.get('kind')}, not a {secret.kind}")
    photo_key = secret.photo_key(salt)
    if not hmac.compare_digest(check_value(photo_key), str(expected)):
        raise WrongKey("wrong key: it does not open this photo (nothing was written)")
    return photo_key


def scrambles_for(trained: dict) -> str:
    """What to scramble with a hiding network trained as ``trained`` says (a bundle manifest's
    ``model`` or a checkpoint's ``config``): its own scrambles (``key_target``, absent in
    networks trained on faces), else the cover."""
    return trained.get("key_target", "face") if trained.get("key_piece") else "cover"


def scrambled_part(record: dict) -> str:
    """What a keyed photo's key scrambled (``SCRAMBLES``)."""
    return record.get("scrambles", "face")
