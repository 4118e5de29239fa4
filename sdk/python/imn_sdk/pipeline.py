"""protect and recover whole photos on a bundle: the executable spec the iOS and Android SDKs
follow step by step (sdk/spec/photo.md).

protect: detect faces and landmarks -> align each face to the template crop -> Mask face (Masks
v2: a donor of nobody from the bundle's bank, matched and blended over the face; or the paper's
Mask-net from an identity preset) -> blend it back through a feathered ellipse -> then, by the
caller's explicit choice:
- sealed (a key or passphrase): each region's original pixels compressed and encrypted into the
  PNG's ``imSd`` chunk (seal.py); the pixels show the Mask only;
- keyless (the paper's method): each region's original pixels hidden in the blended pixels by
  the hiding network, tile by tile at native resolution; anyone with a bundle recovers them.
-> 8-bit PNG with the ``imn`` chunk. recover: read the chunk -> check the digest -> decrypt and
paste (sealed), or check the bundle and reveal each tile (keyless; keyed photos of earlier
releases: unscramble with the key).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from imn_sdk import align, keys, metadata, seal, tiles
from imn_sdk.bundle import Bundle
from imn_sdk.detect import Face, detect_faces
from imn_sdk.errors import AlreadyProtected, BundleMismatch, ImageModified, InvalidImage, NoFaceFound
from imn_sdk.photo_io import Photo, read_photo, to_gray, write_png

MIN_FACE_PIXELS = 40      # narrower faces are left alone (and reported): too small to matter
# Where no face was blended the Mask is the photo itself, so the masked pixel and the revealed
# pixel are two noisy readings of the original; recover mixes them. 0.8 is the best weight of
# 0.5..0.9 on synthetic validation faces (masked 44.22 dB, revealed 38.25 dB, mix 44.76 dB
# there), about their inverse-variance weight; on 30 real faces the mix gives those pixels
# 41.35 dB against 36.91 dB revealed alone (`python scripts/untouched_pixels.py`, README).
UNTOUCHED_MASKED_WEIGHT = np.float32(0.8)
# Detection runs on a copy of at most this many pixels (1280 x 960; a 4:3 photo's copy is 1280 px
# wide), so its cost is bounded whatever the photo's shape; hiding and sealing use the full photo.
# A pixel budget rather than a longest side: a panorama keeps the detail its faces need.
DETECT_MAX_PIXELS = 1280 * 960

Progress = Callable[[str], None] | None
CHOOSE_MODE = ("choose how the faces can be recovered: a key or passphrase (secret=...: sealed, only "
               "its holder recovers them) or keyless=True (the paper's method: anyone with an IMN "
               "bundle, which ships in every app, recovers them from the pixels)")


@dataclass
class ProtectedImage:
    """A protected photo, ready to save: ``rgb`` (H, W, 3) uint8, the kept ``alpha`` and the
    ``record`` written into the PNG's ``imn`` chunk."""

    rgb: np.ndarray
    alpha: np.ndarray | None
    record: dict
    faces: list[Face]
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per stage: detect, mask, hide|seal, write
    record_text: str = ""   # the imn chunk's exact text (a sealed photo's ciphertext is bound to it)
    sealed: bytes | None = None  # the imSd chunk: the regions' original pixels, encrypted

    @property
    def is_sealed(self) -> bool:
        return self.sealed is not None

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        start = time.perf_counter()
        text = self.record_text or metadata.dump_record(self.record)
        out = write_png(path, self.rgb, self.alpha, {metadata.CHUNK_KEY: text}, overwrite,
                        chunks={seal.CHUNK_TYPE: self.sealed} if self.sealed is not None else None)
        self.seconds["write"] = time.perf_counter() - start
        return out


def _as_photo(image) -> tuple[Photo, bool]:
    """The photo, and whether this call owns its pixels (decoded here), so it may write into them
    instead of copying a whole photo."""
    if isinstance(image, Photo):
        return image, False
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise InvalidImage(f"expected an (H, W, 3) uint8 RGB array, got {image.dtype} {image.shape}")
        return Photo(image), False
    return read_photo(image), True


def find_faces(bundle: Bundle, rgb: np.ndarray) -> list[Face]:
    """Faces in photo coordinates; detection runs on a copy of at most DETECT_MAX_PIXELS."""
    from PIL import Image

    h, w = rgb.shape[:2]
    scale = min(1.0, math.sqrt(DETECT_MAX_PIXELS / (w * h)))
    small = rgb if scale == 1.0 else np.asarray(
        Image.fromarray(rgb).resize((round(w * scale), round(h * scale)), Image.BOX))
    found = detect_faces(small, bundle.detector, min_face=max(20.0, MIN_FACE_PIXELS * scale))
    return [Face(tuple(v / scale for v in f.box), f.score, f.landmarks / scale) for f in found]


def protect(image, bundle: Bundle, identity: int | np.ndarray | None = None,
            progress: Progress = None, secret: keys.Secret | None = None, masks: str = "donors",
            donor: int | None = None, keyless: bool = False, seal_quality: str = "lossless") -> ProtectedImage:
    """Put a Mask on every face of ``image`` (a path, encoded bytes, a ``Photo`` or an
    ``(H, W, 3)`` uint8 array) and hide the original faces in it.

    ``masks``: "donors" (Masks v2, the default: a face of nobody from the bundle's donor bank) or
    "masknet" (the paper's generator). ``donor``: a donor index for every face, or None (each face
    gets a donor drawn at random, so photos of one person do not share a Mask).
    ``identity`` (Mask-net only): a preset index, an identity vector ``(D,)``, or None (face i
    gets preset i).
    How the faces come back is the caller's explicit choice, one of:
    ``secret``: a ``keys.Secret`` (256-bit key, or a passphrase of at least 12 characters that
    passes ``seal.check_passphrase``): **sealed**. The originals are encrypted (AES-256-GCM) into
    the PNG and the pixels show only the Mask; only the secret's holder recovers them, bit-exact
    (``seal_quality="lossless"``) or within one level per pixel (``"compact"``, about 25% smaller).
    ``keyless=True``: the paper's method. The originals are hidden in the pixels by the hiding
    network, and anyone with an IMN bundle (every app ships one) recovers them.
    Neither raises ``KeyRequired``. Raises ``NoFaceFound`` when there is nothing to protect.
    """
    if secret is not None and keyless:
        raise ValueError("a photo is either sealed (secret=...) or keyless (keyless=True), not both")
    if secret is None and not keyless:
        raise keys.KeyRequired(CHOOSE_MODE)
    if seal_quality not in seal.STEPS:
        raise ValueError(f"seal_quality must be one of {', '.join(seal.STEPS)}, not {seal_quality!r}")
    if secret is not None and secret.passphrase is not None:
        seal.check_passphrase(secret.passphrase)  # before any work
    read_start = time.perf_counter()
    photo, owned = _as_photo(image)
    if metadata.CHUNK_KEY in photo.text:
        # Hiding it again would bury the first record under the second: recovering would return
        # the first masked photo with no record, and its real faces would be lost for good.
        raise AlreadyProtected("this photo is already protected by IMN; protecting it again would "
                               "lose its hidden faces for good: protect the original photo, or "
                               "recover this one first")
    bundle.require(masks)
    if masks == "donors" and identity is not None:
        raise ValueError("identity presets belong to Mask-net (masks='masknet'); donors are chosen with donor=")
    if donor is not None and (masks != "donors" or not 0 <= donor < len(bundle.donors)):
        raise ValueError(f"donor {donor} does not exist; the bundle has 0..{len(bundle.donors) - 1}"
                         if masks == "donors" else "donor= chooses a donor of Masks v2 (masks='donors')")
    rgb, size = photo.rgb, bundle.size
    h, w = rgb.shape[:2]
    tiles.snap((0, 0, 1, 1), w, h, size)  # ImageTooSmall before any work
    say = progress or (lambda _: None)
    say("detect")
    clock = [time.perf_counter()]
    seconds = {"read": clock[0] - read_start}

    def lap(stage: str) -> None:
        now = time.perf_counter()
        seconds[stage] = seconds.get(stage, 0.0) + now - clock[0]
        clock[0] = now

    faces = find_faces(bundle, rgb)
    lap("detect")
    skipped = [f"face at ({f.box[0]:.0f}, {f.box[1]:.0f}) is {f.width:.0f} px wide, below "
               f"{MIN_FACE_PIXELS} px" for f in faces if f.width < MIN_FACE_PIXELS]
    faces = [f for f in faces if f.width >= MIN_FACE_PIXELS]
    if not faces:
        raise NoFaceFound("no face to protect in this photo" + (f" ({'; '.join(skipped)})" if skipped else ""))

    transforms = [align.crop_transform(f.landmarks, size) for f in faces]
    # Sealed regions are only what is encrypted: whole tiles edge to edge suffice there.
    margin = 0 if secret is not None else tiles.MARGIN
    regions = tiles.merge([align.blend_box(t, size) for t in transforms], w, h, size, margin)
    # The Mask-blended pixels are needed only inside the hidden regions: one copy per region,
    # not of the whole photo.
    blended = {r: rgb[r[1]:r[3], r[0]:r[2]].copy() for r in regions}
    face_records = []
    for i, (face, to_crop) in enumerate(zip(faces, transforms)):
        say(f"mask face {i + 1}/{len(faces)}")
        crop = align.aligned_crop(rgb, to_crop, size)
        if masks == "donors":
            chosen = donor if donor is not None else bundle.choose_donor(crop)
            mask, source = bundle.donor_mask(crop, chosen), {"donor": chosen}
        else:
            vector, preset = _identity(bundle, identity, i)
            mask, source = bundle.mask_face(crop, vector), {"identity": preset}
        if photo.mode == "L":  # a grayscale photo gets a grayscale Mask
            mask = np.repeat(to_gray(mask)[..., None], 3, axis=2)
        centre = face.landmarks.mean(0)
        region = next(r for r in regions if r[0] <= centre[0] < r[2] and r[1] <= centre[1] < r[3])
        align.blend_into(blended[region], region[:2], mask, to_crop, limit=region)
        face_records.append({"box": [round(v, 1) for v in face.box], "score": round(face.score, 4),
                             "landmarks": np.round(face.landmarks, 1).tolist(), **source})
    lap("mask")

    region_records = metadata.region_records(regions)
    out = rgb if owned else rgb.copy()
    if secret is not None:
        return _seal(photo, out, blended, region_records, face_records, masks, secret, seal_quality,
                     faces, skipped, seconds, lap, say)
    # Tiles overlap, so each region's originals are kept aside and only each tile's core is
    # written: a photo decoded here is masked in place.
    for k, region in enumerate(regions):
        say(f"hide region {k + 1}/{len(regions)}")
        originals = out[region[1]:region[3], region[0]:region[2]].copy()
        for x, y, core in tiles.tile_layout(region, size, margin):
            masked = bundle.hide(_tile(originals, region, x, y, size), _tile(blended[region], region, x, y, size))
            _write_core(out, masked, x, y, core)
    record = metadata.keyless_record((w, h), bundle.describe(), margin, region_records, face_records, masks,
                                     metadata.pixel_digest(out, region_records), photo.mode)
    lap("hide")
    return ProtectedImage(out, photo.alpha, record, faces, skipped, list(photo.notes), seconds)


def _seal(photo: Photo, out: np.ndarray, blended: dict, region_records: list[dict], face_records: list[dict],
          masks: str, secret: keys.Secret, quality: str, faces, skipped, seconds, lap, say) -> ProtectedImage:
    """Sealed protect (sdk/spec/photo.md §7): the regions' originals packed and encrypted, then
    the blended Mask pixels written over them."""
    say("seal")
    h, w = out.shape[:2]
    step = seal.STEPS[quality]
    plaintext = seal.pack(out, region_records, {"faces": face_records, "masks": masks}, step)
    for region, pixels in blended.items():
        out[region[1]:region[3], region[0]:region[2]] = pixels
    entry, sealing = seal.new_entry(secret, step)
    entry["bytes"] = len(plaintext) + seal.TAG_BYTES
    record = metadata.sealed_record((w, h), region_records, metadata.photo_digest(out, photo.alpha), entry, photo.mode)
    text = metadata.dump_record(record)
    ciphertext = seal.encrypt(sealing, entry, plaintext, text)
    lap("seal")
    return ProtectedImage(out, photo.alpha, record, faces, skipped, list(photo.notes), seconds,
                          record_text=text, sealed=ciphertext)


def _tile(pixels: np.ndarray, region: tiles.Box, x: int, y: int, size: int) -> np.ndarray:
    """The ``size``-px tile at photo position ``(x, y)`` of a region's own pixel array."""
    return pixels[y - region[1]:y - region[1] + size, x - region[0]:x - region[0] + size]


def _write_core(out: np.ndarray, tile: np.ndarray, x: int, y: int, core: tiles.Box) -> None:
    """Write the core of a tile at photo position ``(x, y)`` into the photo."""
    out[core[1]:core[3], core[0]:core[2]] = tile[core[1] - y:core[3] - y, core[0] - x:core[2] - x]


def _identity(bundle: Bundle, identity, index: int) -> tuple[np.ndarray, int | None]:
    presets = bundle.identities
    if identity is None:
        return presets[index % len(presets)], index % len(presets)
    if isinstance(identity, (int, np.integer)):
        if not 0 <= identity < len(presets):
            raise ValueError(f"identity preset {identity} does not exist; the bundle has 0..{len(presets) - 1}")
        return presets[identity], int(identity)
    vector = np.asarray(identity, np.float32).reshape(-1)
    if vector.shape != presets.shape[1:]:
        raise ValueError(f"an identity vector has {presets.shape[1]} values, got {vector.shape[0]}")
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0:
        raise ValueError("the identity vector is zero or not finite")
    return vector / norm, None


def _mix_untouched(out: np.ndarray, masked: np.ndarray, box, to_crops: list[np.ndarray], size: int) -> None:
    """Inside ``box``, where no face's blend reached (``align.blend_support``), replace the
    revealed pixels of ``out`` by ``round(w * masked + (1 - w) * revealed)`` (float32);
    ``masked`` holds the box's masked pixels ``(h, w, 3)``."""
    x0, y0, x1, y1 = box
    untouched = ~align.blend_support(to_crops, size, box)
    if not untouched.any():
        return
    revealed = out[y0:y1, x0:x1]
    mixed = (UNTOUCHED_MASKED_WEIGHT * masked.astype(np.float32)
             + (np.float32(1) - UNTOUCHED_MASKED_WEIGHT) * revealed.astype(np.float32))
    np.copyto(revealed, np.clip(np.rint(mixed), 0, 255).astype(np.uint8), where=untouched[..., None])


@dataclass
class RecoveredImage:
    rgb: np.ndarray
    alpha: np.ndarray | None
    record: dict
    seconds: dict[str, float] = field(default_factory=dict)  # per stage: read, reveal, write
    notes: list[str] = field(default_factory=list)  # e.g. revealed on another target or precision

    @property
    def mode(self) -> str:
        """The protected photo's own mode: "L" (grayscale, written as such by ``save``) or "RGB"."""
        return self.record.get("mode", "RGB")

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        start = time.perf_counter()
        out = write_png(path, self.rgb, self.alpha, {}, overwrite, mode=self.mode)
        self.seconds["write"] = time.perf_counter() - start
        return out


def recover(image, bundle: Bundle | None, force: bool = False, progress: Progress = None,
            secret: keys.Secret | None = None) -> RecoveredImage:
    """Put the Mask off: the original photo from a protected PNG (path or bytes or ``Photo``).

    Raises ``NotProtected`` without IMN metadata, ``ImageModified`` when the pixels changed since
    protection (re-encoded, resized, edited; ``force=True`` tries anyway where the size still
    fits) or a sealed photo's record or ciphertext was altered, ``BundleMismatch`` for a bundle of
    another checkpoint or tile size (another target or precision of the same checkpoint reveals,
    with a note), and for a sealed or keyed photo ``KeyRequired`` without ``secret`` or
    ``WrongKey`` when the secret's check value disagrees (before anything is decrypted or
    revealed). A sealed photo needs no bundle (``bundle=None``): its faces are decrypted, not
    revealed.
    """
    start = time.perf_counter()
    photo, owned = (image, False) if isinstance(image, Photo) else (read_photo(image), True)
    read_seconds = time.perf_counter() - start
    if photo.format and photo.format != "PNG" and metadata.CHUNK_KEY not in photo.text:
        raise ImageModified(f"this is a {photo.format} file: a protected photo is a PNG, and "
                            "re-encoding it (as JPEG, say) destroys the hidden face")
    record = metadata.parse_record(photo.text)
    sealed = record["format"] == metadata.SEALED_FORMAT_VERSION
    if not sealed and bundle is None:
        raise BundleMismatch("this photo is keyless (or keyed by an earlier release): recovering it "
                             "needs an IMN bundle")
    notes = [] if sealed else bundle.check_can_reveal(record["bundle"])
    rgb, (w, h) = photo.rgb, record["size"]
    if rgb.shape[1] != w or rgb.shape[0] != h:
        raise ImageModified(f"the photo is {rgb.shape[1]}x{rgb.shape[0]} but was protected at {w}x{h}: "
                            "it was resized or cropped, and the hidden faces cannot be recovered")
    digest = (metadata.photo_digest(rgb, photo.alpha) if record["format"] == metadata.SEALED_FORMAT_VERSION
              else metadata.pixel_digest(rgb, record["regions"]))
    if digest != record["digest"] and not force:
        raise ImageModified("the masked pixels changed after protection (re-encoded, filtered or "
                            "edited), so the recovered faces would be damaged",
                            override="force", purpose="try anyway")
    if sealed:
        return _unseal(photo, owned, record, secret, read_seconds, progress)
    photo_key = keys.open_key_record(record["key"], secret) if record.get("keyed") else None
    if secret is not None and not record.get("keyed"):
        # Anyone with a bundle can make a keyless photo: one given where a sealed photo was
        # expected may be a substitute, so it is refused, not recovered with a note.
        raise keys.WrongKey("this photo is keyless, not sealed: the key does not belong to it, and "
                            "anyone with an IMN bundle could have made it; recover it without a key "
                            "if you trust where it came from")
    scrambles = keys.scrambled_part(record["key"]) if photo_key is not None else None
    # A photo decoded here is recovered in place; each region's masked pixels are kept aside for
    # the reveal and the mix.
    size, out = bundle.size, (rgb if owned else rgb.copy())
    to_crops = [align.crop_transform(np.asarray(f["landmarks"], np.float64), size) for f in record.get("faces", [])]
    start = time.perf_counter()
    for k, r in enumerate(record["regions"]):
        (progress or (lambda _: None))(f"reveal region {k + 1}/{len(record['regions'])}")
        box = (r["x"], r["y"], r["x"] + r["width"], r["y"] + r["height"])
        masked = rgb[box[1]:box[3], box[0]:box[2]].copy()
        for x, y, core in tiles.tile_layout(box, size, record.get("margin", 0)):
            tile = _tile(masked, box, x, y, size)
            revealed = (bundle.reveal(tile) if photo_key is None
                        else keys.keyed_reveal(bundle.reveal, tile, photo_key, scrambles, k, x, y))
            _write_core(out, revealed, x, y, core)
        _mix_untouched(out, masked, box, to_crops, size)
    return RecoveredImage(out, photo.alpha, record,
                          {"read": read_seconds, "reveal": time.perf_counter() - start}, notes)


def _unseal(photo: Photo, owned: bool, record: dict, secret: keys.Secret | None, read_seconds: float,
            progress: Progress) -> RecoveredImage:
    """Sealed recover (sdk/spec/photo.md §7): check the key, decrypt (GCM's tag first), paste."""
    entry = record["sealed"]
    ciphertext = photo.chunks.get(seal.CHUNK_TYPE)
    if ciphertext is None:
        raise ImageModified("this sealed photo lost its imSd chunk (an app dropped it when saving): "
                            "the hidden faces are gone with it")
    if len(ciphertext) != entry["bytes"]:
        raise ImageModified(f"this sealed photo's imSd chunk has {len(ciphertext)} bytes, not the "
                            f"{entry['bytes']} it was written with")
    start = time.perf_counter()
    (progress or (lambda _: None))("open seal")
    sealing = seal.open_keys(entry, secret)
    plaintext = seal.decrypt(sealing, entry, ciphertext, photo.text[metadata.CHUNK_KEY])
    inner, originals = seal.unpack(plaintext, record["regions"], entry["step"])
    out = photo.rgb if owned else photo.rgb.copy()
    for r, pixels in zip(record["regions"], originals):
        out[r["y"]:r["y"] + r["height"], r["x"]:r["x"] + r["width"]] = pixels
    inner = inner if isinstance(inner, dict) else {}
    # Only a key holder can write this part; still, it is untrusted input to the caller.
    faces = [f for f in inner.get("faces", []) if isinstance(f, dict) and metadata.landmarks_ok(f.get("landmarks"))] \
        if isinstance(inner.get("faces"), list) else []
    masks = inner.get("masks") if inner.get("masks") in ("donors", "masknet") else None
    return RecoveredImage(out, photo.alpha, {**record, "faces": faces, "masks": masks},
                          {"read": read_seconds, "unseal": time.perf_counter() - start})
