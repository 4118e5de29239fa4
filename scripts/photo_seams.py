"""Issue #16's scenario through the whole SDK: each real face pasted at about 600 px into a
4000x3000 photo, saved as JPEG (quality 90) and decoded, protected keyless and recovered from the
PNG, once with tiles edge to edge (margin 0, the layout of format 1) and once with the shipped
overlap. Prints the mean absolute error (0-255) on the 2-px lines along the cuts between tiles
against the rest of each hidden region, and the worst pixels on those lines.

    python scripts/photo_seams.py --bundle runs/dist-onnx --photos 6 --json docs/results/photo-seams-real.json
"""

import argparse
import io
import json
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from imn_export.evaluate.photos import tile_cuts
from imn_export.io import list_images
from imn_sdk import Bundle, protect, recover, tiles


def jpeg_photo(face_path: Path) -> np.ndarray:
    canvas = Image.new("RGB", (4000, 3000), (120, 110, 100))
    canvas.paste(Image.open(face_path).convert("RGB").resize((900, 900), Image.LANCZOS), (1500, 900))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=90)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def cut_errors(photo: np.ndarray, recovered: np.ndarray, record: dict, size: int) -> list[dict]:
    rows = []
    for r in record["regions"]:
        box = (r["x"], r["y"], r["x"] + r["width"], r["y"] + r["height"])
        error = np.abs(recovered[box[1]:box[3], box[0]:box[2]].astype(np.float64)
                       - photo[box[1]:box[3], box[0]:box[2]]).mean(2)
        cuts = tile_cuts(box, size, record.get("margin", 0))
        if cuts.any():
            rows.append({"ratio": error[cuts].mean() / error[~cuts].mean(),
                         "cuts_p99_5": np.percentile(error[cuts], 99.5), "cuts_max": error[cuts].max()})
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bundle", default="dist", help="bundle folder with an ONNX target")
    p.add_argument("--faces", default="../shared/data/faces-real-eval", help="folder of face photos")
    p.add_argument("--photos", type=int, default=6, help="photos made and measured (default 6)")
    p.add_argument("--json", help="write the figures here")
    args = p.parse_args()
    bundle = Bundle(args.bundle, threads=2)
    shipped, summary = tiles.MARGIN, {}
    photos = [jpeg_photo(f) for f in list_images(args.faces)[:args.photos]]
    for margin in (0, shipped):
        tiles.MARGIN = margin  # protect reads it per call; recover follows the record
        rows = []
        for photo in tqdm(photos, desc=f"margin {margin}"):
            result = protect(photo, bundle, keyless=True)
            with tempfile.TemporaryDirectory() as folder:
                rows += cut_errors(photo, recover(result.save(Path(folder) / "p.png"), bundle).rgb,
                                   result.record, bundle.size)
        summary[f"margin {margin}"] = {"regions": len(rows), "ratio": float(np.mean([r["ratio"] for r in rows])),
                                       "ratio_worst": float(np.max([r["ratio"] for r in rows])),
                                       "cuts_p99_5": float(np.mean([r["cuts_p99_5"] for r in rows])),
                                       "cuts_max": float(np.max([r["cuts_max"] for r in rows]))}
        s = summary[f"margin {margin}"]
        print(f"margin {margin:>2}: {s['regions']} regions, cuts/interior {s['ratio']:.2f} (worst {s['ratio_worst']:.2f}), "
              f"cuts p99.5 {s['cuts_p99_5']:.1f}, max {s['cuts_max']:.1f} levels")
    tiles.MARGIN = shipped
    if args.json:
        Path(args.json).write_text(json.dumps({"command": f"python scripts/photo_seams.py --bundle BUNDLE --photos {args.photos}",
                                               "bundle": bundle.describe(), "layouts": summary}, indent=1) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
