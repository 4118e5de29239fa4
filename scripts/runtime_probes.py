"""Two measurements behind the README's "Speed and memory" section, each in its own process:

- ``png``: Pillow decoding and encoding a 12 MP PNG (the scene ``photo_memory.py`` builds) at zlib
  levels 0 and 1, and decoding the same pixels as a JPEG (quality 95); best of 2.
- ``litert BUNDLE``: resident memory and time per 256-px tile of the bundle's int8 LiteRT hide
  graph, with and without the XNNPACK delegate.

    python scripts/runtime_probes.py png
    python scripts/runtime_probes.py litert runs/dist-qat-sdk
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def _best_of(count: int, run) -> float:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def png_speed() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from photo_memory import build_photo

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scene.png"
        build_photo(4000, 3000, path)
        _png_speed(path)


def _png_speed(path: Path) -> None:
    from PIL import Image

    image = Image.open(path)
    image.load()
    print("4000x3000 scene (scripts/photo_memory.py), Pillow, best of 2:")
    print(f"  decode PNG (zlib level 1)  {_best_of(2, lambda: Image.open(path).load()):.2f} s")
    for level in (0, 1):
        seconds = _best_of(2, lambda: image.save(io.BytesIO(), format="PNG", compress_level=level))
        print(f"  encode PNG, zlib level {level}   {seconds:.2f} s")
    source = io.BytesIO()
    image.save(source, format="JPEG", quality=95)
    jpeg = source.getvalue()
    print(f"  decode JPEG (quality 95)   {_best_of(2, lambda: Image.open(io.BytesIO(jpeg)).load()):.2f} s")


def litert_hide(bundle: str, xnnpack: bool) -> None:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    manifest = json.loads((Path(bundle) / "manifest.json").read_text())
    entry = next(a for a in manifest["artifacts"]
                 if (a["target"], a["precision"], a["graph"]) == ("tflite", "int8", "hide"))
    options = {} if xnnpack else {
        "experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    loaded = _rss_mb()
    runner = Interpreter(model_path=str(Path(bundle) / entry["file"]), num_threads=2,
                         **options).get_signature_runner()
    tile = np.random.default_rng(0).random((1, 3, entry["size"], entry["size"]), dtype=np.float32)
    feeds = {i["name"]: tile for i in entry["inputs"]}
    runner(**feeds)  # the first run allocates
    seconds = _best_of(3, lambda: runner(**feeds))
    print(f"  {'with' if xnnpack else 'without'} XNNPACK: +{_rss_mb() - loaded:.0f} MB resident, "
          f"{seconds:.2f} s per tile")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probe", choices=["png", "litert"])
    parser.add_argument("bundle", nargs="?", default="runs/dist-qat-sdk")
    parser.add_argument("--xnnpack", choices=["on", "off"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe == "png":
        png_speed()
    elif args.xnnpack:
        litert_hide(args.bundle, args.xnnpack == "on")
    else:
        print(f"int8 LiteRT hide graph of {args.bundle}, 2 threads, best of 3 after a first run:")
        for flag in ("on", "off"):  # a fresh process each, so one's memory does not hide the other's
            subprocess.run([sys.executable, __file__, "litert", args.bundle, "--xnnpack", flag],
                           check=True)


if __name__ == "__main__":
    main()
