"""Sealed recovery (sdk/spec/photo.md §7): the original pixels of each hidden region, compressed
without loss and encrypted with AES-256-GCM, in a PNG chunk of their own (``imSd``). The masked
pixels are the Mask and nothing else: no network hides the face in them, so no attack on the
pixels, the public reveal graph included, gets closer to the person than the Mask itself.

Everything secret comes from ``cryptography``: the per-photo key is HKDF-SHA256 over the user's
256-bit key, or over Argon2id (64 MiB, 3 passes) of a passphrase, with a random 16-byte salt;
the AEAD binds the photo's whole clear record (the ``imn`` chunk's bytes: geometry, digest of
the masked pixels, salt, nonce) as associated data, so a changed record or ciphertext is refused
before any plaintext is used. The regions' faces (boxes, landmarks, donors) travel inside the
ciphertext, not in the clear.

Pixels are coded as JPEG-LS/PNG coders do, by a predictor then DEFLATE: per channel the plane
predictor ``left + up - up_left`` (zero outside the region), the residual taken mod 256 (its
inverse is two running sums mod 256, vectorised here), the residuals of all regions in order as
one raw DEFLATE stream (RFC 1951: zlib with wbits -15, Java's ``Deflater(nowrap)``, Apple's
``COMPRESSION_ZLIB``). Lossy ``step`` s > 1 stores ``(x + s // 2) // s`` and recovers
``min(255, v * s)``: with s = 3 every pixel is within one level of the original, so the face
is at least 48.1 dB by construction.
"""

from __future__ import annotations

import hmac
import json
import math
import secrets
import struct
import unicodedata
import zlib
from dataclasses import dataclass, field

import numpy as np

from imn_sdk.errors import IMNError, ImageModified
from imn_sdk.keys import KEY_BYTES, KeyRequired, Secret, WrongKey

CHUNK_TYPE = b"imSd"          # ancillary, private, safe to copy: travels with the imn chunk
CIPHER = "aes-256-gcm"
PIXELS = "plane-deflate"
KDF_INFO = b"imn seal v1"
ARGON2ID = {"memory_kib": 65536, "iterations": 3, "lanes": 1}  # libsodium's lanes; 0.16 s here
SALT_BYTES, NONCE_BYTES, TAG_BYTES = 16, 12, 16
STEPS = {"lossless": 1, "compact": 3}   # compact: every pixel within one level (>= 48.1 dB)
DEFLATE_LEVEL = 1   # level 6 saves ~5% more for 4x the time on photo residuals
MIN_PASSPHRASE_CHARS = 12
MIN_PASSPHRASE_DISTINCT = 6
MIN_PASSPHRASE_BITS = 50


class WeakPassphrase(IMNError):
    """A passphrase too short or too simple to seal photos with."""


@dataclass(frozen=True)
class SealKeys:
    aead_key: bytes = field(repr=False)
    check: str   # 32 hex digits: tells a wrong key from a damaged photo (costs a guesser nothing
                 # the GCM tag would not also tell them)


# ---- passphrases ----

def normalize_passphrase(passphrase: str) -> bytes:
    """NFC then UTF-8: the same passphrase typed on any keyboard gives the same bytes."""
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def passphrase_bits(passphrase: str) -> float:
    """A plain strength estimate: length x log2 of the character pool its classes span (digits 10,
    lower 26, upper 26, anything else 33). It overrates phrases of dictionary words, which is why
    the length floor comes first; it catches the short, the repetitive and the digits-only."""
    text = unicodedata.normalize("NFC", passphrase)
    pool = (10 * any(c.isascii() and c.isdigit() for c in text)
            + 26 * any(c.isascii() and c.islower() for c in text)
            + 26 * any(c.isascii() and c.isupper() for c in text)
            + 33 * any(not (c.isascii() and c.isalnum()) for c in text))
    return len(text) * math.log2(pool) if pool else 0.0


def check_passphrase(passphrase: str) -> None:
    """``WeakPassphrase`` unless at least 12 characters, 6 different ones and 50 estimated bits."""
    text = unicodedata.normalize("NFC", passphrase)
    if len(text) < MIN_PASSPHRASE_CHARS:
        raise WeakPassphrase(f"a passphrase needs at least {MIN_PASSPHRASE_CHARS} characters "
                             f"(this one has {len(text)}); a few unrelated words are best")
    if len(set(text)) < MIN_PASSPHRASE_DISTINCT:
        raise WeakPassphrase(f"a passphrase needs at least {MIN_PASSPHRASE_DISTINCT} different characters")
    bits = passphrase_bits(text)
    if bits < MIN_PASSPHRASE_BITS:
        raise WeakPassphrase(f"this passphrase is too easy to guess (about {bits:.0f} "
                             f"bits; at least {MIN_PASSPHRASE_BITS}): make it longer, or mix letters, "
                             "digits and symbols")


# ---- keys ----

def key_material(secret: Secret, salt: bytes, kdf: dict | str) -> bytes:
    """The key, or Argon2id of the normalised passphrase with the record's parameters."""
    if secret.key is not None:
        return secret.key
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    params = kdf["argon2id"]
    return Argon2id(salt=salt, length=KEY_BYTES, iterations=params["iterations"], lanes=params["lanes"],
                    memory_cost=params["memory_kib"]).derive(normalize_passphrase(secret.passphrase))


def derive_keys(material: bytes, salt: bytes) -> SealKeys:
    """HKDF-SHA256(material, salt, "imn seal v1") -> 48 bytes: the AES key, then the check value."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    okm = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES + 16, salt=salt, info=KDF_INFO).derive(material)
    return SealKeys(okm[:KEY_BYTES], okm[KEY_BYTES:].hex())


def kdf_entry(secret: Secret) -> dict | str:
    return "hkdf-sha256" if secret.kind == "key" else {"argon2id": dict(ARGON2ID), "then": "hkdf-sha256"}


# ---- pixels ----

def plane_residuals(pixels: np.ndarray) -> np.ndarray:
    """``(h, w, c)`` uint8 -> residuals ``x - left - up + up_left`` mod 256 (zero outside)."""
    d = pixels.copy()
    d[:, 1:] -= pixels[:, :-1]          # uint8 arithmetic wraps: mod 256
    d[1:] -= d[:-1].copy()
    return d


def plane_pixels(residuals: np.ndarray) -> np.ndarray:
    """The inverse of ``plane_residuals``: running sums mod 256 down the columns, then along rows."""
    return np.cumsum(np.cumsum(residuals, axis=0, dtype=np.uint8), axis=1, dtype=np.uint8)


def quantize(pixels: np.ndarray, step: int) -> np.ndarray:
    if step == 1:
        return pixels
    return ((pixels.astype(np.uint16) + step // 2) // step).astype(np.uint8)


def dequantize(values: np.ndarray, step: int) -> np.ndarray:
    if step == 1:
        return values
    return np.minimum(values.astype(np.uint16) * step, 255).astype(np.uint8)


def pack(rgb: np.ndarray, regions: list[dict], inner: dict, step: int) -> bytes:
    """The plaintext: ``u32be(len(J)) || J || raw DEFLATE of every region's residuals``, with
    ``J`` the UTF-8 JSON of ``inner`` (what the photo keeps out of the clear)."""
    header = json.dumps(inner, separators=(",", ":"), sort_keys=True).encode()
    deflate = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
    parts = [struct.pack(">I", len(header)), header]
    for r in regions:
        box = rgb[r["y"]:r["y"] + r["height"], r["x"]:r["x"] + r["width"]]
        parts.append(deflate.compress(plane_residuals(quantize(box, step)).tobytes()))
    parts.append(deflate.flush())
    return b"".join(parts)


def unpack(plaintext: bytes, regions: list[dict], step: int) -> tuple[dict, list[np.ndarray]]:
    """``(inner, [(h, w, 3) uint8 per region])`` from ``pack``'s bytes; ``ImageModified`` when
    they do not hold exactly the regions' pixels (only reachable with the key: the tag was right)."""
    damaged = ImageModified("the sealed pixels do not match the photo's regions")
    if len(plaintext) < 4:
        raise damaged
    (length,) = struct.unpack(">I", plaintext[:4])
    try:
        inner = json.loads(plaintext[4:4 + length])
    except (ValueError, RecursionError):
        raise damaged from None
    sizes = [r["width"] * r["height"] * 3 for r in regions]
    inflate = zlib.decompressobj(-15)
    try:
        raw = inflate.decompress(plaintext[4 + length:], sum(sizes))
    except zlib.error:
        raise damaged from None
    if len(raw) != sum(sizes) or not inflate.eof or inflate.unconsumed_tail or inflate.unused_data:
        raise damaged
    out, start = [], 0
    for r, n in zip(regions, sizes):
        residuals = np.frombuffer(raw, np.uint8, n, start).reshape(r["height"], r["width"], 3)
        out.append(dequantize(plane_pixels(residuals), step))
        start += n
    return inner, out


# ---- the record's entry and the chunk ----

def new_entry(secret: Secret, step: int) -> tuple[dict, SealKeys]:
    """The record's ``sealed`` entry for a new photo (nonce included), and its keys."""
    if secret.passphrase is not None:
        check_passphrase(secret.passphrase)
    salt = secrets.token_bytes(SALT_BYTES)
    kdf = kdf_entry(secret)
    keys = derive_keys(key_material(secret, salt, kdf), salt)
    entry = {"cipher": CIPHER, "kind": secret.kind, "kdf": kdf, "salt": salt.hex(),
             "nonce": secrets.token_bytes(NONCE_BYTES).hex(), "check": keys.check,
             "pixels": PIXELS, "step": step}
    return entry, keys


def encrypt(keys: SealKeys, entry: dict, plaintext: bytes, record_text: str) -> bytes:
    """AES-256-GCM of ``plaintext`` with the ``imn`` chunk's exact bytes as associated data."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(keys.aead_key).encrypt(bytes.fromhex(entry["nonce"]), plaintext, record_text.encode())


def open_keys(entry: dict, secret: Secret | None) -> SealKeys:
    """The photo's keys from the user's secret; ``WrongKey`` (nothing decrypted) when the check
    value disagrees, ``KeyRequired`` without a secret."""
    if secret is None:
        raise KeyRequired("this photo is sealed: pass its key file (--key-file) or passphrase "
                          "(--passphrase) to recover it")
    if entry["kind"] != secret.kind:
        raise WrongKey(f"this photo was sealed with a {entry['kind']}, not a {secret.kind}")
    salt = bytes.fromhex(entry["salt"])
    keys = derive_keys(key_material(secret, salt, entry["kdf"]), salt)
    if not hmac.compare_digest(keys.check, entry["check"]):
        raise WrongKey("wrong key: it does not open this photo (nothing was written)")
    return keys


def decrypt(keys: SealKeys, entry: dict, ciphertext: bytes, record_text: str) -> bytes:
    """The plaintext, or ``ImageModified`` when the ciphertext or the record was altered (GCM's
    tag is checked before any plaintext is returned)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(keys.aead_key).decrypt(bytes.fromhex(entry["nonce"]), ciphertext, record_text.encode())
    except InvalidTag:
        raise ImageModified("the sealed data or the photo's record was altered after protection: "
                            "nothing was recovered") from None

