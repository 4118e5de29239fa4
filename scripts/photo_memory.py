"""Peak memory of the torch-free SDK on one photo, in a process that imports only imn_sdk.

``imn bench-photo`` runs inside the imn CLI, whose process also holds torch (about 200 MB). This
script builds the test photo in a first run (that one imports imn_export) and measures in a second:

    python scripts/photo_memory.py 4000 3000 [--bundle runs/dist-onnx] [--target tflite --precision int8] [--sealed]

prints resident memory (VmRSS) and its peak (VmHWM) after loading the bundle, protecting, saving,
recovering and saving again. Linux only (/proc/self/status).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path


def _memory_mb() -> str:
    from imn_export.evaluate.photo_bench import process_memory_mb  # numpy and PIL only, no torch

    return (f"RSS {process_memory_mb('VmRSS'):5.0f} MB, "
            f"peak {process_memory_mb('VmHWM'):5.0f} MB")


def measure(photo: Path, bundle_dir: str, target: str, precision: str, work: Path, sealed: bool) -> None:
    from imn_sdk import Bundle, Secret, protect, recover

    secret = Secret(key=bytes(32)) if sealed else None
    bundle = Bundle(bundle_dir, target, precision, threads=2)
    print(f"{'bundle loaded':>14}: {_memory_mb()}")
    protected = protect(photo, bundle, keyless=not sealed, secret=secret)
    print(f"{'protected':>14}: {_memory_mb()}")
    protected.save(work / "masked.png")
    print(f"{'saved':>14}: {_memory_mb()}")
    del protected
    recovered = recover(work / "masked.png", None if sealed else bundle, secret=secret)
    print(f"{'recovered':>14}: {_memory_mb()}")
    recovered.save(work / "recovered.png")
    print(f"{'saved':>14}: {_memory_mb()}")


def build_photo(width: int, height: int, out: Path) -> None:
    import numpy as np
    from PIL import Image

    from imn_export.export.samples import CHECK_FACES
    from imn_export.io import list_images
    from imn_export.evaluate.photos import background, build_scene

    face = np.asarray(Image.open(list_images(CHECK_FACES)[0]).convert("RGB").resize((640, 640)))
    scene, _ = build_scene([face], background(0), (width, height), np.random.default_rng(0))
    Image.fromarray(scene).save(out, compress_level=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("width", type=int)
    parser.add_argument("height", type=int)
    parser.add_argument("--bundle", default="runs/dist-onnx")
    parser.add_argument("--target", default="onnx", choices=["onnx", "tflite"])
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--sealed", action="store_true", help="sealed protect and recover (default keyless)")
    parser.add_argument("--photo", help=argparse.SUPPRESS)  # the measuring run
    args = parser.parse_args()
    if args.photo:
        with tempfile.TemporaryDirectory() as tmp:
            measure(Path(args.photo), args.bundle, args.target, args.precision, Path(tmp), args.sealed)
        return
    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "photo.png"
        build_photo(args.width, args.height, photo)
        print(f"{args.width}x{args.height} photo, one 640-px face, bundle {args.bundle} "
              f"({args.target} {args.precision})")
        subprocess.run([sys.executable, __file__, str(args.width), str(args.height), "--bundle",
                        args.bundle, "--target", args.target, "--precision", args.precision,
                        "--photo", str(photo)] + (["--sealed"] if args.sealed else []), check=True)


if __name__ == "__main__":
    main()
