"""PNG codecs side by side on the 12 MP bench photo (issue #20): encode time, file size and
bit-exact read-back for Pillow at zlib levels 0-6 and the PyPI alternatives installed here
(imagecodecs' libpng and libspng, fpng); decode time for Pillow, imagecodecs and pyspng. Best
of --repeats, one thread. README, "Speed and memory".

    python scripts/png_codecs.py --repeats 3 --json docs/results/png-codecs.json
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import time

import numpy as np
from PIL import Image


def bench_photo(seed: int = 1) -> np.ndarray:
    """The bench-photo scene (imn bench-photo): 4000x3000, one 640-px real face."""
    from imn_export.evaluate.hiding import select_images
    from imn_export.evaluate.photo_bench import FACE_SIDE, PHOTO_SIZE
    from imn_export.evaluate.photos import background, build_scene

    face = select_images("../shared/data/faces-real-eval", "all", 2)[0]
    faces = [np.asarray(Image.open(face).convert("RGB").resize((FACE_SIDE, FACE_SIDE), Image.BICUBIC))]
    return build_scene(faces, background(seed), PHOTO_SIZE, np.random.default_rng(seed))[0]


def _pillow_encode(level: int):
    def encode(rgb: np.ndarray) -> bytes:
        out = io.BytesIO()
        Image.fromarray(rgb).save(out, format="PNG", compress_level=level)
        return out.getvalue()
    return encode


def encoders() -> dict:
    table = {f"Pillow level {level}": _pillow_encode(level) for level in (0, 1, 2, 6)}
    if importlib.util.find_spec("imagecodecs"):
        import imagecodecs
        table["imagecodecs libpng level 1"] = lambda rgb: imagecodecs.png_encode(rgb, level=1)
        table["imagecodecs libpng level 1, RLE, Sub (OpenCV's fast)"] = \
            lambda rgb: imagecodecs.png_encode(rgb, level=1, strategy=3, filter=16)
        table["imagecodecs libspng"] = lambda rgb: imagecodecs.spng_encode(rgb)
    if importlib.util.find_spec("fpng"):
        import fpng
        table["fpng"] = lambda rgb: fpng.from_ndarray(rgb)
    return table


def decoders() -> dict:
    table = {"Pillow": lambda data: np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))}
    if importlib.util.find_spec("imagecodecs"):
        import imagecodecs
        table["imagecodecs libpng"] = imagecodecs.png_decode
        table["imagecodecs libspng"] = imagecodecs.spng_decode
    if importlib.util.find_spec("pyspng"):
        import pyspng
        table["pyspng"] = pyspng.load
    return table


def best_of(repeats: int, work, *args) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = work(*args)
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rgb = bench_photo()
    rows = []
    reference = None
    for name, encode in encoders().items():
        seconds, data = best_of(args.repeats, encode, rgb)
        exact = np.array_equal(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), rgb)
        rows.append({"codec": name, "encode_s": seconds, "mb": len(data) / 1e6, "pillow_reads_exact": exact})
        print(f"encode {name:52s} {seconds:6.3f} s  {len(data) / 1e6:6.1f} MB  Pillow reads it exactly: {exact}")
        if name == "Pillow level 1":
            reference = data
    for name, decode in decoders().items():
        seconds, pixels = best_of(args.repeats, decode, reference)
        exact = np.array_equal(np.asarray(pixels)[..., :3], rgb)
        rows.append({"codec": name, "decode_s": seconds, "exact": exact})
        print(f"decode {name:52s} {seconds:6.3f} s  exact: {exact}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"photo": "imn bench-photo's 4000x3000 scene, one 640-px face", "repeats": args.repeats,
                       "rows": rows}, f, indent=1)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
