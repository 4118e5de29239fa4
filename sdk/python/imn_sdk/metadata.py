"""The ``imn`` PNG text chunk: what a protected photo records so it can be recovered, and a
digest of the masked pixels so later damage is detected before anything is revealed.

The reader is the one place untrusted bytes enter: it accepts exactly the schema below and raises
``InvalidMetadata`` for anything else (fuzzed in tests/sdk/test_metadata.py)."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from imn_sdk import tiles
from imn_sdk.errors import IMNError, NotProtected

CHUNK_KEY = "imn"
FORMAT_VERSION = 1          # keyless and keyed photos of earlier releases: tiles edge to edge
SEALED_FORMAT_VERSION = 2   # sealed photos: their readers must not try the network on them
KEYLESS_FORMAT_VERSION = 3  # keyless photos: tiles overlap by 2 * margin (a format-1 reader
                            # would reveal them on the wrong grid, so it must refuse them)
FORMATS = (FORMAT_VERSION, SEALED_FORMAT_VERSION, KEYLESS_FORMAT_VERSION)
MAX_CHUNK_CHARS = 1 << 20
# Bounds on what a sealed record may ask of the recipient's device (a crafted photo could
# otherwise demand gigabytes per guess): Argon2id up to 256 MiB (four times what protect writes,
# and what a phone can spare; at 1 GiB one attempt took 5.3 s and got close to an app's memory
# limit) and 10 passes.
ARGON2_MEMORY_KIB = (8192, 1 << 18)
ARGON2_ITERATIONS = (1, 10)
ARGON2_LANES = (1, 8)


class InvalidMetadata(IMNError):
    """The ``imn`` chunk is present but malformed."""


def pixel_digest(rgb: np.ndarray, regions: list[dict]) -> str:
    """sha256 over each region's geometry and its ``(h, w, 3)`` uint8 pixels, in order."""
    digest = hashlib.sha256()
    for r in regions:
        digest.update(f"{r['x']},{r['y']},{r['width']},{r['height']};".encode())
        digest.update(np.ascontiguousarray(rgb[r["y"]:r["y"] + r["height"], r["x"]:r["x"] + r["width"]]).tobytes())
    return "sha256:" + digest.hexdigest()


def photo_digest(rgb: np.ndarray, alpha: np.ndarray | None) -> str:
    """A sealed photo's digest (format 2): sha256 over ``"rgb;"`` and every ``(H, W, 3)`` pixel,
    then, with an alpha channel, ``"alpha;"`` and its ``(H, W)`` bytes. The whole image, since
    recover promises the original photo bit for bit and the record that holds this digest is
    authenticated (0.02 s at 12 MP)."""
    digest = hashlib.sha256(b"rgb;")
    digest.update(np.ascontiguousarray(rgb).data)
    if alpha is not None:
        digest.update(b"alpha;")
        digest.update(np.ascontiguousarray(alpha).data)
    return "sha256:" + digest.hexdigest()


def dump_record(record: dict) -> str:
    return json.dumps(record, separators=(",", ":"), sort_keys=True)


def _int(value, name: str, low: int = 0, high: int = 1 << 20) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidMetadata(f"imn metadata: {name} must be an integer in [{low}, {high}], got {value!r}")
    return value


def landmarks_ok(marks) -> bool:
    """Five [x, y] pairs of finite numbers within +-2^20 that are not all one point (recover
    rebuilds each face's blend from them)."""
    if not isinstance(marks, list) or len(marks) != 5:
        return False
    for point in marks:
        if not isinstance(point, list) or len(point) != 2:
            return False
        for v in point:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not abs(v) <= 1 << 20:
                return False
    xs, ys = [p[0] for p in marks], [p[1] for p in marks]
    return max(xs) - min(xs) + max(ys) - min(ys) >= 1


def _regions_disjoint(regions: list[dict], photo_area: int) -> None:
    """Protect writes regions that never overlap and so cover at most the photo: anything else
    is crafted, and would make recover reveal the same pixels again and again (4,096 full-photo
    regions: hours of CPU)."""
    if sum(r["width"] * r["height"] for r in regions) > photo_area:
        raise InvalidMetadata("imn metadata: the regions cover more than the photo")
    box = np.array([[r["x"], r["y"], r["x"] + r["width"], r["y"] + r["height"]] for r in regions], np.int64)
    overlap = ((box[:, None, 0] < box[None, :, 2]) & (box[None, :, 0] < box[:, None, 2])
               & (box[:, None, 1] < box[None, :, 3]) & (box[None, :, 1] < box[:, None, 3]))
    np.fill_diagonal(overlap, False)
    if overlap.any():
        raise InvalidMetadata("imn metadata: regions overlap")


def _hex(value, digits: int, name: str) -> None:
    if not isinstance(value, str) or len(value) != digits or not all(c in "0123456789abcdef" for c in value):
        raise InvalidMetadata(f"imn metadata: sealed.{name} must be {digits} lowercase hex digits")


def _check_sealed(entry, region_area: int) -> None:
    """sdk/spec/photo.md §7: exactly the entry protect writes, within bounds a device can afford."""
    if not isinstance(entry, dict):
        raise InvalidMetadata("imn metadata: a format-2 photo needs a sealed entry")
    if entry.get("cipher") != "aes-256-gcm" or entry.get("pixels") != "plane-deflate":
        raise InvalidMetadata("imn metadata: sealed photos use aes-256-gcm over plane-deflate pixels")
    kind, kdf = entry.get("kind"), entry.get("kdf")
    if kind == "key":
        if kdf != "hkdf-sha256":
            raise InvalidMetadata("imn metadata: a sealed key photo derives with hkdf-sha256")
    elif kind == "passphrase":
        params = kdf.get("argon2id") if isinstance(kdf, dict) else None
        if not isinstance(params, dict) or kdf.get("then") != "hkdf-sha256" or set(kdf) != {"argon2id", "then"}:
            raise InvalidMetadata("imn metadata: a sealed passphrase photo derives with argon2id then hkdf-sha256")
        _int(params.get("memory_kib"), "sealed.kdf.argon2id.memory_kib", *ARGON2_MEMORY_KIB)
        _int(params.get("iterations"), "sealed.kdf.argon2id.iterations", *ARGON2_ITERATIONS)
        _int(params.get("lanes"), "sealed.kdf.argon2id.lanes", *ARGON2_LANES)
    else:
        raise InvalidMetadata("imn metadata: sealed.kind must be key or passphrase")
    _hex(entry.get("salt"), 32, "salt")
    _hex(entry.get("nonce"), 24, "nonce")
    _hex(entry.get("check"), 32, "check")
    _int(entry.get("step"), "sealed.step", 1, 16)
    # DEFLATE never grows data by more than 5 bytes per 16 KB block, plus a 1 MB header allowance.
    _int(entry.get("bytes"), "sealed.bytes", 16, 3 * region_area * 1001 // 1000 + (1 << 20))


def region_records(regions: list[tuple[int, int, int, int]]) -> list[dict]:
    """``[{"x", "y", "width", "height"}]`` of boxes ``(x0, y0, x1, y1)``."""
    return [{"x": r[0], "y": r[1], "width": r[2] - r[0], "height": r[3] - r[1]} for r in regions]


def keyless_record(size: tuple[int, int], bundle: dict, margin: int, regions: list[dict], faces: list[dict],
                   masks: str, digest: str, mode: str = "RGB") -> dict:
    """A keyless photo's record (sdk/spec/photo.md §5, format 3)."""
    record = {"format": KEYLESS_FORMAT_VERSION, "size": list(size), "bundle": bundle, "margin": margin,
              "regions": regions, "faces": faces, "masks": masks, "digest": digest}
    if mode == "L":  # recover gives it back as grayscale (absent: RGB)
        record["mode"] = "L"
    return record


def sealed_record(size: tuple[int, int], regions: list[dict], digest: str, entry: dict, mode: str = "RGB") -> dict:
    """A sealed photo's record (sdk/spec/photo.md §7.3): nothing in the clear beyond the regions."""
    record = {"format": SEALED_FORMAT_VERSION, "size": list(size), "regions": regions, "digest": digest,
              "sealed": entry}
    if mode == "L":
        record["mode"] = "L"
    return record


def parse_record(text_chunks: dict[str, str]) -> dict:
    """The validated record from a PNG's text chunks; ``NotProtected`` when there is none."""
    if CHUNK_KEY not in text_chunks:
        raise NotProtected("no IMN metadata in this image: it was not protected by IMN, or an app "
                           "stripped the metadata when saving it (nothing can be recovered)")
    raw = text_chunks[CHUNK_KEY]
    if not isinstance(raw, str) or len(raw) > MAX_CHUNK_CHARS:
        raise InvalidMetadata("imn metadata: not text, or larger than 1 MB")
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise InvalidMetadata(f"imn metadata is not valid JSON ({error})") from None
    if not isinstance(record, dict):
        raise InvalidMetadata("imn metadata: expected a JSON object")
    version = record.get("format")
    if version not in FORMATS or isinstance(version, bool):
        raise InvalidMetadata(f"imn metadata format {version!r}; this SDK reads formats "
                              f"{', '.join(map(str, FORMATS))}")
    size = record.get("size")
    if not isinstance(size, list) or len(size) != 2:
        raise InvalidMetadata("imn metadata: size must be [width, height]")
    width, height = (_int(v, "size", 1) for v in size)
    if version == SEALED_FORMAT_VERSION:
        tile = 1
    else:
        bundle = record.get("bundle")
        if not isinstance(bundle, dict) or not all(isinstance(bundle.get(k), str) for k in
                                                   ("checkpoint_sha256", "target", "precision")):
            raise InvalidMetadata("imn metadata: bundle must name checkpoint_sha256, target, precision")
        tile = _int(bundle.get("tile"), "bundle.tile", 2)
    margin = 0
    if version == KEYLESS_FORMAT_VERSION:
        # At most a quarter tile: neighbours then step at least half a tile, so a crafted record
        # cannot ask for more than about 4x the tiles of an edge-to-edge layout (a margin near
        # half the tile would make a 2-px step: millions of tiles, hours of CPU).
        margin = _int(record.get("margin"), "margin", 0, tile // 4)
        if margin % 2:
            raise InvalidMetadata(f"imn metadata: margin must be even, got {margin}")
    elif "margin" in record:
        raise InvalidMetadata(f"imn metadata: a margin needs format {KEYLESS_FORMAT_VERSION}")
    regions = record.get("regions")
    if not isinstance(regions, list) or not 1 <= len(regions) <= 4096:
        raise InvalidMetadata("imn metadata: regions must be a non-empty list")
    for r in regions:
        if not isinstance(r, dict):
            raise InvalidMetadata("imn metadata: each region must be an object")
        x, y = _int(r.get("x"), "region.x"), _int(r.get("y"), "region.y")
        w, h = _int(r.get("width"), "region.width", tile), _int(r.get("height"), "region.height", tile)
        if not (tiles.fits(w, tile, margin) and tiles.fits(h, tile, margin)) or x + w > width or y + h > height:
            raise InvalidMetadata(f"imn metadata: region {r} is not whole tiles inside the image")
    _regions_disjoint(regions, width * height)
    faces = record.get("faces", [])
    if not isinstance(faces, list) or len(faces) > 4096:
        raise InvalidMetadata("imn metadata: faces must be a list")
    for face in faces:
        if not isinstance(face, dict) or not landmarks_ok(face.get("landmarks")):
            raise InvalidMetadata("imn metadata: each face needs five distinct [x, y] landmarks")
    digest = record.get("digest")
    if not isinstance(digest, str) or not digest.startswith("sha256:") or len(digest) != 71:
        raise InvalidMetadata("imn metadata: digest must be 'sha256:' + 64 hex digits")
    if record.get("mode", "RGB") not in ("RGB", "L"):
        raise InvalidMetadata("imn metadata: mode must be RGB or L")
    if version == SEALED_FORMAT_VERSION:
        if any(name in record for name in ("keyed", "key", "faces", "bundle")):
            raise InvalidMetadata("imn metadata: a sealed record keeps no key scramble, bundle or faces in the clear")
        _check_sealed(record.get("sealed"), sum(r["width"] * r["height"] for r in regions))
        return record
    if "sealed" in record:
        raise InvalidMetadata(f"imn metadata: a sealed entry needs format {SEALED_FORMAT_VERSION}")
    keyed = record.get("keyed", False)
    if not isinstance(keyed, bool):
        raise InvalidMetadata("imn metadata: keyed must be true or false")
    if keyed and version != FORMAT_VERSION:
        raise InvalidMetadata(f"imn metadata: keyed photos are format {FORMAT_VERSION} (earlier releases)")
    if keyed:
        key = record.get("key")
        if not isinstance(key, dict) or key.get("kind") not in ("key", "passphrase"):
            raise InvalidMetadata("imn metadata: a keyed photo needs a key entry of kind key or passphrase")
        for name in ("salt", "check"):
            value = key.get(name)
            if not isinstance(value, str) or len(value) != 32 or not all(c in "0123456789abcdef" for c in value):
                raise InvalidMetadata(f"imn metadata: key.{name} must be 32 lowercase hex digits")
        piece = _int(key.get("piece"), "key.piece", 2)
        if tile % piece:
            raise InvalidMetadata(f"imn metadata: key.piece {piece} does not divide the tile {tile}")
        if key.get("scrambles", "face") not in ("cover", "face"):
            raise InvalidMetadata("imn metadata: key.scrambles must be cover or face")
    return record
