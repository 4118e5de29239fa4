"""Golden test vectors shared by the Python, Swift and Kotlin SDKs (sdk/golden/*.json).

Each case is an input and the output the reference SDK computes for it: detector graph I/O
(weights fixed by the mtcnn package, so any bundle's detector must reproduce them), alignment,
the blend mask, tiling, suppression, the pixel digest, Pillow's resamplers (box resize, bicubic
and bilinear affine warps, which the other SDKs reimplement to the same pixels), the sealed
mode's KDFs, pixel coding and AEAD, the earlier keyed mode's KDF, check value and scramble, and
a small photo case (the astronaut at 256x256: faces,
landmarks, crop transform and hidden regions). Written by
``python -m imn_sdk.golden BUNDLE sdk/golden``; checked by tests/sdk/test_golden.py.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from imn_sdk import align, metadata, tiles
from imn_sdk.detect import detect_faces, nms

TOLERANCE = {"tensor": 1e-4, "pixels": 0.05, "exact": 0.0, "level": 1.0}


def _pattern(shape: tuple[int, ...], seed: float) -> np.ndarray:
    """A deterministic float32 pattern in [0, 1] any language can rebuild:
    ``frac(sin(i * 12.9898 + seed) * 43758.5453)`` over the flat index i, in float64."""
    i = np.arange(int(np.prod(shape)), dtype=np.float64)
    values = np.sin(i * 12.9898 + seed) * 43758.5453
    return (values - np.floor(values)).astype(np.float32).reshape(shape)


def detector_cases(runners) -> dict:
    cases = {}
    for name, shape in (("pnet", (1, 3, 30, 26)), ("rnet", (2, 3, 24, 24)), ("onet", (1, 3, 48, 48))):
        outputs = runners[name](_pattern(shape, seed=len(name) + shape[2]))
        cases[name] = {"input": {"pattern_seed": len(name) + shape[2], "shape": list(shape)},
                       "outputs": [o.round(6).tolist() for o in outputs], "tolerance": "tensor"}
    return cases


def geometry_cases() -> dict:
    landmarks = np.array([[210.3, 101.2], [251.8, 104.9], [231.0, 128.4], [211.7, 150.2], [248.9, 152.6]])
    regions = [{"x": 2, "y": 1, "width": 4, "height": 4}]
    image = (np.arange(8 * 8 * 3) % 251).astype(np.uint8).reshape(8, 8, 3)
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [52, 49, 61, 62]], float)
    return {
        "crop_transform": {"landmarks": landmarks.tolist(), "size": 256,
                           "output": align.crop_transform(landmarks, 256).round(8).tolist(), "tolerance": "tensor"},
        "face_alpha": {"size": 16, "output": align.face_alpha(16).round(6).tolist(), "tolerance": "tensor"},
        "blend_box": {"landmarks": landmarks.tolist(), "size": 256,
                      "output": [float(v) for v in align.blend_box(align.crop_transform(landmarks, 256), 256)],
                      "tolerance": "exact"},
        "snap": {"cases": [{"box": list(b), "photo": [w, h], "tile": t, "margin": m,
                            "output": list(tiles.snap(b, w, h, t, m))}
                           for b, w, h, t, m in [((10, 10, 50, 50), 320, 240, 64, 0), ((0, 0, 300, 90), 320, 240, 64, 0),
                                                 ((250.5, 180.2, 330.9, 240.0), 320, 240, 64, 0),
                                                 ((900, 700, 1500, 1400), 4000, 3000, 256, 0),
                                                 ((900, 700, 1500, 1400), 4000, 3000, 256, 16),
                                                 ((0, 0, 300, 90), 320, 240, 64, 16),
                                                 ((3900.5, 10.2, 4100.0, 980.7), 4000, 3000, 256, 16)]],
                 "tolerance": "exact"},
        "tile_layout": {"cases": [{"region": list(r), "tile": t, "margin": m,
                                   "output": [[x, y, list(core)] for x, y, core in tiles.tile_layout(r, t, m)]}
                                  for r, t, m in [((64, 0, 192, 128), 64, 0), ((7, 3, 711, 707), 256, 16),
                                                  ((0, 0, 160, 96), 64, 16)]],
                        "tolerance": "exact"},
        "merge": {"boxes": [[10, 10, 60, 60], [50, 50, 100, 100], [400, 400, 450, 450]], "photo": [640, 640],
                  "tile": 64, "output": [list(r) for r in tiles.merge(
                      [(10, 10, 60, 60), (50, 50, 100, 100), (400, 400, 450, 450)], 640, 640, 64)],
                  "tolerance": "exact"},
        "nms": {"boxes": boxes.tolist(), "scores": [0.9, 0.8, 0.7, 0.95], "threshold": 0.5,
                "output": sorted(nms(boxes, np.array([0.9, 0.8, 0.7, 0.95]), 0.5).tolist()), "tolerance": "exact"},
        "pixel_digest": {"image": "(arange(8*8*3) % 251) as uint8, shape (8, 8, 3)", "regions": regions,
                         "output": metadata.pixel_digest(image, regions), "tolerance": "exact"},
    }


def constant_cases() -> dict:
    """The pipeline's constants: each SDK states its own, and they must agree with these."""
    from imn_sdk import bundle, detect, keys, pipeline

    return {"pipeline": {"values": {"min_face_pixels": pipeline.MIN_FACE_PIXELS, "detect_max_pixels": pipeline.DETECT_MAX_PIXELS,
                       "untouched_masked_weight": float(pipeline.UNTOUCHED_MASKED_WEIGHT),
                       "tile_margin": tiles.MARGIN, "key_piece": keys.PIECE,
                       "donor_candidates": bundle.DONOR_CANDIDATES, "detect_thresholds": list(detect.THRESHOLDS),
                       "detect_scale_factor": detect.SCALE_FACTOR,
                       "formats": {"legacy": metadata.FORMAT_VERSION, "sealed": metadata.SEALED_FORMAT_VERSION,
                                   "keyless": metadata.KEYLESS_FORMAT_VERSION}},
            "tolerance": "exact"}}


def record_cases() -> dict:
    """The records protect writes (sdk/spec/photo.md §5 and §7.3), built from fixed inputs: every
    SDK builds the same JSON object (compared parsed; key order and number spelling may differ)."""
    bundle = {"checkpoint_sha256": "ab" * 32, "target": "onnx", "precision": "fp32", "tile": 256,
              "hide_sha256": "cd" * 32, "reveal_sha256": "ef" * 32}
    regions = metadata.region_records([(10, 20, 490, 500)])
    faces = [{"box": [100.5, 120.0, 300.2, 380.9], "score": 0.9987,
              "landmarks": [[150.1, 200.2], [250.3, 200.4], [200.5, 260.6], [160.7, 320.8], [240.9, 321.0]],
              "donor": 17}]
    entry = {"kind": "key", "kdf": "hkdf-sha256", "cipher": "aes-256-gcm", "pixels": "plane-deflate", "step": 1,
             "salt": "00" * 16, "nonce": "11" * 12, "check": "22" * 16, "bytes": 1234}
    inputs = {"size": [640, 512], "bundle": bundle, "margin": 16, "regions": regions, "faces": faces,
              "masks": "donors", "digest": "sha256:" + "3" * 64, "mode": "L"}
    return {
        "keyless": {"inputs": inputs, "output": metadata.keyless_record(
            tuple(inputs["size"]), bundle, 16, regions, faces, "donors", inputs["digest"], "L"), "tolerance": "exact"},
        "sealed": {"inputs": {"size": [640, 512], "regions": regions, "digest": inputs["digest"], "entry": entry,
                              "mode": "RGB"},
                   "output": metadata.sealed_record((640, 512), regions, inputs["digest"], entry, "RGB"),
                   "tolerance": "exact"},
    }


def _pattern_u8(height: int, width: int, seed: float) -> np.ndarray:
    """``(H, W, 3)`` uint8 ``floor(pattern * 256)`` of ``_pattern``."""
    return np.minimum(_pattern((height, width, 3), seed) * 256, 255).astype(np.uint8)


def _exif_upright(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """What Pillow's exif_transpose (read_photo) makes of ``rgb`` tagged with ``orientation``."""
    from PIL import Image, ImageOps

    image = Image.fromarray(rgb)
    image.getexif()[0x0112] = orientation
    return np.asarray(ImageOps.exif_transpose(image))


def resample_cases() -> dict:
    """Pillow's resamplers on pattern images: what every SDK's own resampler must reproduce."""
    from PIL import Image

    image = _pattern_u8(37, 41, seed=7.0)
    plane = _pattern((19, 23), seed=3.0)
    affine = [0.93, 0.11, -2.3, -0.08, 0.97, 1.7]
    boxed = {f"{w}x{h}": np.asarray(Image.fromarray(image).resize((w, h), Image.BOX)).tolist()
             for w, h in [(29, 20), (41, 13), (17, 37), (41, 37)]}
    return {
        "image": {"pattern_seed": 7.0, "shape": [37, 41, 3], "rule": "min(floor(pattern * 256), 255) as uint8"},
        "plane": {"pattern_seed": 3.0, "shape": [19, 23]},
        "box_resize": {"output": boxed, "tolerance": "exact"},
        "bicubic_warp": {"affine": affine, "size": [30, 33], "tolerance": "exact",
                         "output": np.asarray(Image.fromarray(image).transform(
                             (30, 33), Image.AFFINE, tuple(affine), Image.BICUBIC)).tolist()},
        "exif_orientation": {"image": "the first 3 rows and 5 columns of the pattern image", "tolerance": "exact",
                             "output": {str(k): _exif_upright(image[:3, :5], k).tolist() for k in range(1, 9)}},
        "bilinear_warp": {"affine": [1.13, 0.11, -2.3, -0.08, 0.97, 1.7], "size": [25, 21], "tolerance": "tensor",
                          "output": np.asarray(Image.fromarray(plane, "F").transform(
                              (25, 21), Image.AFFINE, (1.13, 0.11, -2.3, -0.08, 0.97, 1.7),
                              Image.BILINEAR)).round(6).tolist()},
    }


def key_cases() -> dict:
    """Keyed mode from fixed secrets and salt: photo keys, check values, a tile's scramble."""
    from imn_sdk import keys

    key, salt = bytes(range(32)), bytes(range(100, 116))
    photo_key = keys.Secret(key=key).photo_key(salt)
    passphrase_key = keys.Secret(passphrase="correct horse battery").photo_key(salt)
    order, turns = keys.tile_scramble(photo_key, 1, 64, 128, 16)
    tile = _pattern_u8(128, 128, seed=5.0)
    return {
        "key": key.hex(), "salt": salt.hex(), "passphrase": "correct horse battery",
        "photo_key": photo_key.hex(), "check": keys.check_value(photo_key),
        "passphrase_photo_key": passphrase_key.hex(),
        "tile_scramble": {"region": 1, "x": 64, "y": 128, "count": 16,
                          "order": order.tolist(), "turns": turns.tolist()},
        "scrambled_tile": {"pattern_seed": 5.0, "shape": [128, 128, 3], "piece": 32,
                           "sha256": hashlib.sha256(keys.scramble(tile, order, turns).tobytes()).hexdigest()},
        "tolerance": "exact",
    }


def seal_cases() -> dict:
    """Sealed mode (photo.md §7) from fixed secrets, salt and nonce: key material (Argon2id for the
    passphrase), the AES key and check value, the plane residuals and their inverse, the plaintext
    of two regions of a pattern photo and its AES-256-GCM ciphertext under a record's text."""
    from imn_sdk import keys, seal

    key, salt, nonce = bytes(range(32)), bytes(range(100, 116)), bytes(range(200, 212))
    passphrase = "violet tram under seven moons"
    phrase = keys.Secret(passphrase=passphrase)
    kdf = seal.kdf_entry(phrase)
    material = seal.key_material(phrase, salt, kdf)
    by_key, by_phrase = seal.derive_keys(key, salt), seal.derive_keys(material, salt)
    photo = _pattern_u8(24, 40, seed=19.0)
    regions = [{"x": 0, "y": 0, "width": 16, "height": 8}, {"x": 24, "y": 8, "width": 16, "height": 16}]
    inner = {"faces": [{"box": [26.0, 9.5, 38.0, 22.0], "donor": 3}], "masks": "donors"}
    entry = {"cipher": seal.CIPHER, "kind": "key", "kdf": "hkdf-sha256", "salt": salt.hex(),
             "nonce": nonce.hex(), "check": by_key.check, "pixels": seal.PIXELS, "step": 1}
    plaintext = seal.pack(photo, regions, inner, 1)
    entry["bytes"] = len(plaintext) + seal.TAG_BYTES
    record = {"format": metadata.SEALED_FORMAT_VERSION, "size": [40, 24], "regions": regions,
              "digest": metadata.photo_digest(photo, None), "sealed": entry}
    text = metadata.dump_record(record)
    residuals = seal.plane_residuals(photo[:8, :16])
    compact = seal.dequantize(seal.quantize(photo[:8, :16], 3), 3)
    return {
        "key": key.hex(), "salt": salt.hex(), "nonce": nonce.hex(),
        "passphrase": passphrase, "argon2id": kdf["argon2id"], "passphrase_material": material.hex(),
        "key_aead_key": by_key.aead_key.hex(), "key_check": by_key.check,
        "passphrase_aead_key": by_phrase.aead_key.hex(), "passphrase_check": by_phrase.check,
        "photo": {"pattern_seed": 19.0, "shape": [24, 40, 3], "rule": "min(floor(pattern * 256), 255) as uint8"},
        "plane_residuals": {"region": "photo rows 0..7, columns 0..15", "output": residuals.tolist()},
        "compact_step_3": {"region": "photo rows 0..7, columns 0..15", "output": compact.tolist()},
        "record_text": text, "inner": inner,
        "plaintext": plaintext.hex(),
        "ciphertext": seal.encrypt(by_key, entry, plaintext, text).hex(),
        "tolerance": "exact",
    }


MASK_FACE_FILE, MASK_OUTPUT_FILE, MASK_DONOR = "mask-face-256.png", "mask-donor5-256.png", 5


def masks_cases(runners, donors: np.ndarray, folder: Path) -> dict:
    """Masks v2 (photo.md §3.1): the region weight, the composite on pattern images (every step
    at a small size) and donor 5 of the shipped bank over the astronaut's aligned face at 256 px
    (input and expected output stored as PNGs beside the vectors)."""
    from PIL import Image

    from imn_sdk import masks

    face = _pattern_u8(32, 32, seed=11.0)
    donor = np.dstack([_pattern_u8(32, 32, seed=13.0), _pattern_u8(32, 32, seed=17.0)[..., :1]])
    face_path = folder / MASK_FACE_FILE
    if not face_path.exists():
        from skimage import data
        photo = data.astronaut()
        faces = detect_faces(photo, runners)
        Image.fromarray(align.aligned_crop(photo, align.crop_transform(faces[0].landmarks, 256), 256)).save(face_path)
    aligned = np.asarray(Image.open(face_path).convert("RGB"))
    Image.fromarray(masks.compose(aligned, donors[MASK_DONOR])).save(folder / MASK_OUTPUT_FILE)
    raw = donors.tobytes()
    return {
        "region_alpha": {"size": 16, "output": masks.region_alpha(16).round(6).tolist(), "tolerance": "tensor"},
        "compose_pattern": {"face": {"pattern_seed": 11.0, "shape": [32, 32, 3]},
                            "donor": {"pattern_seed": 13.0, "shape": [32, 32, 3],
                                      "outline": "channel 0 of the pattern image of seed 17.0"},
                            "output": masks.compose(face, donor).tolist(), "tolerance": "level"},
        "compose_bank": {"face": MASK_FACE_FILE, "donor": MASK_DONOR, "output": MASK_OUTPUT_FILE,
                         "tolerance": "level"},
        "bank_pixels": {"file": "models/donors-256.png", "decoded_sha256": hashlib.sha256(raw).hexdigest(),
                        "what": "SHA-256 of the (K, 256, 256, 4) uint8 donors as load_donors lays them out",
                        "tolerance": "exact"},
    }


PHOTO_FILE = "astronaut-256.png"


def golden_photo(folder: Path) -> np.ndarray:
    """The small photo case's input, stored beside the vectors (decoders agree on PNG pixels)."""
    from PIL import Image
    path = folder / PHOTO_FILE
    if not path.exists():
        from skimage import data
        Image.fromarray(data.astronaut()).resize((256, 256), Image.BOX).save(path)
    return np.asarray(Image.open(path).convert("RGB"))


def photo_case(runners, folder: Path) -> dict:
    photo = golden_photo(folder)
    faces = detect_faces(photo, runners)
    transforms = [align.crop_transform(f.landmarks, 64) for f in faces]
    regions = tiles.merge([align.blend_box(t, 64) for t in transforms], 256, 256, 64)
    return {"photo": PHOTO_FILE,
            "faces": [{"box": np.round(f.box, 3).tolist(), "landmarks": f.landmarks.round(3).tolist()}
                      for f in faces],
            "crop_transforms_64": [t.round(6).tolist() for t in transforms],
            "regions_64": [list(r) for r in regions], "tolerance": "pixels"}


def make_golden(runners, folder: Path, donors: np.ndarray) -> dict[str, dict]:
    """All cases; ``donors`` is the shipped 256-px bank (``imn_export.donors.bank.read_bank``)."""
    return {"detector": detector_cases(runners), "geometry": geometry_cases(),
            "resample": resample_cases(), "keys": key_cases(), "seal": seal_cases(), "records": record_cases(),
            "constants": constant_cases(),
            "photo": photo_case(runners, folder),
            "masks": masks_cases(runners, donors, folder)}


def main(argv: list[str]) -> int:
    from imn_sdk.bundle import Bundle
    if len(argv) != 2:
        print("usage: python -m imn_sdk.golden BUNDLE OUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    bundle = Bundle(argv[0])
    if bundle.donors is None or bundle.size != 256:
        print("the golden masks case needs a 256-px bundle with the donor bank", file=sys.stderr)
        return 2
    for name, cases in make_golden(bundle.detector, out, bundle.donors).items():
        (out / f"{name}.json").write_text(json.dumps(cases, indent=1) + "\n")
        print(f"wrote {out / name}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
