"""Golden test vectors shared by the Python, Swift and Kotlin SDKs (sdk/golden/*.json).

Each case is an input and the output the reference SDK computes for it: detector graph I/O
(weights fixed by the mtcnn package, so any bundle's detector must reproduce them), alignment,
the blend mask, tiling, suppression, the pixel digest, the metadata reader, and a small photo
case (the astronaut at 256x256: faces, landmarks, crop transform and hidden regions). Written by
``python -m imn_sdk.golden BUNDLE sdk/golden``; checked by tests/sdk/test_golden.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from imn_sdk import align, metadata, tiles
from imn_sdk.detect import detect_faces, nms

TOLERANCE = {"tensor": 1e-4, "pixels": 0.05, "exact": 0.0}


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
        "snap": {"cases": [{"box": list(b), "photo": [w, h], "tile": t, "output": list(tiles.snap(b, w, h, t))}
                           for b, w, h, t in [((10, 10, 50, 50), 320, 240, 64), ((0, 0, 300, 90), 320, 240, 64),
                                              ((250.5, 180.2, 330.9, 240.0), 320, 240, 64),
                                              ((900, 700, 1500, 1400), 4000, 3000, 256)]],
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
    from imn_sdk.pipeline import _blend_box
    regions = tiles.merge([_blend_box(t, 64) for t in transforms], 256, 256, 64)
    return {"photo": PHOTO_FILE,
            "faces": [{"box": np.round(f.box, 3).tolist(), "landmarks": f.landmarks.round(3).tolist()}
                      for f in faces],
            "crop_transforms_64": [t.round(6).tolist() for t in transforms],
            "regions_64": [list(r) for r in regions], "tolerance": "pixels"}


def make_golden(runners, folder: Path) -> dict[str, dict]:
    return {"detector": detector_cases(runners), "geometry": geometry_cases(),
            "photo": photo_case(runners, folder)}


def main(argv: list[str]) -> int:
    from imn_sdk.bundle import Bundle
    if len(argv) != 2:
        print("usage: python -m imn_sdk.golden BUNDLE OUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, cases in make_golden(Bundle(argv[0]).detector, out).items():
        (out / f"{name}.json").write_text(json.dumps(cases, indent=1) + "\n")
        print(f"wrote {out / name}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
