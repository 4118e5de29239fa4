"""Seams where hiding tiles meet (issue #16), on real faces: each face fills a region three tiles
a side, another face stands in for the Mask, and the region is hidden and revealed tile by tile
through a bundle (8-bit rounding between, aux = 0) twice: with tiles edge to edge (format 1)
and with the overlapping layout keyless photos use now (format 3, sdk/spec/photo.md §4). Prints
the mean absolute error (0-255) on the 2-px lines along the cuts between tiles against the rest
of the region, and the worst pixels on those lines.

    python scripts/tile_seams.py --bundle dist --faces ../shared/data/faces-real-eval --pairs 12 \\
        --json docs/results/tile-seams-real.json
"""

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from imn_export.evaluate.photos import tile_cuts
from imn_export.io import list_images
from imn_sdk import Bundle, tiles


def run_layout(bundle: Bundle, original: np.ndarray, cover: np.ndarray, margin: int) -> tuple[np.ndarray, np.ndarray]:
    """Recovered region and the mask of its cut lines, for one layout."""
    side, size = original.shape[0], bundle.size
    layout = tiles.tile_layout((0, 0, side, side), size, margin)
    masked, recovered = np.zeros_like(original), np.zeros_like(original)
    for source, out, step in ((original, masked, "hide"), (masked, recovered, "reveal")):
        for x, y, (x0, y0, x1, y1) in layout:
            tile = (bundle.hide(source[y:y + size, x:x + size], cover[y:y + size, x:x + size]) if step == "hide"
                    else bundle.reveal(source[y:y + size, x:x + size]))
            out[y0:y1, x0:x1] = tile[y0 - y:y1 - y, x0 - x:x1 - x]
    return recovered, tile_cuts((0, 0, side, side), size, margin)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bundle", default="dist", help="bundle folder with an ONNX target")
    p.add_argument("--faces", default="../shared/data/faces-real-eval", help="folder of face photos")
    p.add_argument("--pairs", type=int, default=12, help="regions measured (default 12)")
    p.add_argument("--margins", type=int, nargs="+", default=[0, tiles.MARGIN],
                   help=f"margins (px) to compare; 0 is edge to edge (default: 0 {tiles.MARGIN})")
    p.add_argument("--json", help="write the figures here")
    args = p.parse_args()
    bundle = Bundle(args.bundle, threads=2)
    size = bundle.size
    paths = list_images(args.faces)[:2 * args.pairs]
    rows = {}
    for face_path, cover_path in tqdm(list(zip(paths[::2], paths[1::2])), desc="regions"):
        for margin in args.margins:
            name = ("edge to edge (format 1)" if margin == 0 else f"overlap, margin {margin}"
                    + (" (format 3)" if margin == tiles.MARGIN else ""))
            side = size + 2 * (size - 2 * margin)  # three tiles a side
            original, cover = (np.asarray(Image.open(f).convert("RGB").resize((side, side), Image.LANCZOS))
                               for f in (face_path, cover_path))
            recovered, cuts = run_layout(bundle, original, cover, margin)
            error = np.abs(recovered.astype(np.float64) - original).mean(2)
            rows.setdefault(name, []).append({"cuts": error[cuts].mean(), "interior": error[~cuts].mean(),
                                              "cuts_p99_5": np.percentile(error[cuts], 99.5),
                                              "cuts_max": error[cuts].max()})
    summary = {}
    print(f"{args.pairs} real faces, regions of 3x3 tiles of {size} px, mean abs error (0-255):")
    for name, values in rows.items():
        mean = {k: float(np.mean([v[k] for v in values])) for k in values[0]}
        ratios = [v["cuts"] / v["interior"] for v in values]
        mean["ratio"], mean["ratio_worst"] = float(np.mean(ratios)), float(np.max(ratios))
        summary[name] = mean
        print(f"  {name:<30} cuts {mean['cuts']:.2f}  interior {mean['interior']:.2f}  ratio {mean['ratio']:.2f} "
              f"(worst region {mean['ratio_worst']:.2f})  cuts p99.5 {mean['cuts_p99_5']:.1f}  max {mean['cuts_max']:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"command": "python scripts/tile_seams.py --bundle BUNDLE --pairs "
                                               f"{args.pairs} --margins {' '.join(map(str, args.margins))}", "bundle": bundle.describe(), "pairs": args.pairs,
                                               "tile": size, "layouts": summary}, indent=1) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
