"""Photos built from aligned real faces, for the SDK's figures: each face pasted at its native
resolution into a larger scene, one or several per photo; then protect -> PNG -> recover on a
bundle, measured inside the hidden regions and checked bit-exact outside them.

Backgrounds are scikit-image's bundled face-free photos (coffee, rocket), so no image beyond the
evaluation set and the installed packages is needed.
"""

from __future__ import annotations

import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from imn_export.io import read_rgb
from imn_export.metrics import image_metrics, mean_metrics


def tile_cuts(region: tuple[int, int, int, int], tile: int, margin: int) -> np.ndarray:
    """``(H, W)`` bool over ``region``: the 2-px lines along every cut between the cores of its
    tiles (``imn_sdk.tiles.tile_layout``), where a seam would show."""
    from imn_sdk.tiles import tile_layout

    x0, y0, x1, y1 = region
    cuts = np.zeros((y1 - y0, x1 - x0), bool)
    for _x, _y, (cx0, cy0, _cx1, _cy1) in tile_layout(region, tile, margin):
        if cx0 > x0:
            cuts[:, cx0 - x0 - 1:cx0 - x0 + 1] = True
        if cy0 > y0:
            cuts[cy0 - y0 - 1:cy0 - y0 + 1, :] = True
    return cuts


def background(index: int) -> np.ndarray:
    """A face-free photo ``(H, W, 3)`` uint8 shipped with scikit-image."""
    from skimage import data
    return (data.coffee, data.rocket)[index % 2]()


def build_scene(faces: list[np.ndarray], backdrop: np.ndarray, size: tuple[int, int],
                rng: np.random.Generator) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A ``size`` (W, H) photo: ``backdrop`` resized, ``faces`` pasted without overlap at random
    places. Returns the photo and each face's box (x0, y0, x1, y1)."""
    width, height = size
    scene = np.asarray(Image.fromarray(backdrop).resize(size, Image.BICUBIC)).copy()
    boxes: list[tuple[int, int, int, int]] = []
    for face in faces:
        h, w = face.shape[:2]
        for _ in range(200):
            x, y = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
            box = (x, y, x + w, y + h)
            if all(box[2] + 64 <= b[0] or b[2] + 64 <= box[0] or box[3] + 64 <= b[1] or b[3] + 64 <= box[1]
                   for b in boxes):
                break
        else:
            raise ValueError(f"cannot place {len(faces)} faces of {w}x{h} apart in {width}x{height}")
        scene[y:y + h, x:x + w] = face
        boxes.append(box)
    return scene, boxes


def evaluate_photos(bundle, paths: list[Path], faces_per_photo: int = 1, size=(1024, 768),
                    seed: int = 0, progress: bool = True, figure_rows: int = 0, masks: str = "donors") -> dict:
    """protect -> PNG -> recover for photos of ``faces_per_photo`` faces each, from ``paths``,
    with ``masks`` ("donors", Masks v2, or "masknet") making the Mask faces."""
    from imn_sdk import NoFaceFound, protect, recover

    rng = np.random.default_rng(seed)
    rows, figure, faces_total, found_total = [], [], 0, 0
    groups = [paths[i:i + faces_per_photo] for i in range(0, len(paths) - faces_per_photo + 1, faces_per_photo)]
    with tempfile.TemporaryDirectory(prefix="imn-photos-") as tmp:
        for k, group in enumerate(tqdm(groups, desc="eval-photos", unit="photo", disable=not progress)):
            faces = [read_rgb(p) for p in group]
            scene, boxes = build_scene(faces, background(k), size, rng)
            faces_total += len(faces)
            try:
                result = protect(scene, bundle, masks=masks, keyless=True)
            except NoFaceFound:
                rows.append({"photo": k, "faces": [p.name for p in group], "found": 0})
                continue
            found_total += len(result.faces)
            path = result.save(Path(tmp) / f"{k}.png")
            recovered = recover(path, bundle).rgb
            keep = np.ones(scene.shape[:2], bool)
            for r in result.record["regions"]:
                keep[r["y"]:r["y"] + r["height"], r["x"]:r["x"] + r["width"]] = False
            row = {"photo": k, "faces": [p.name for p in group], "found": len(result.faces),
                   "outside_bit_exact": bool(np.array_equal(recovered[keep], scene[keep])
                                             and np.array_equal(result.rgb[keep], scene[keep])),
                   "regions": [], "face_crops": []}
            for r in result.record["regions"]:
                box = (slice(r["y"], r["y"] + r["height"]), slice(r["x"], r["x"] + r["width"]))
                row["regions"].append(image_metrics(scene[box], recovered[box]))
            for x0, y0, x1, y1 in boxes:  # the pasted face itself, as the crop-level figures measure it
                row["face_crops"].append(image_metrics(scene[y0:y1, x0:x1], recovered[y0:y1, x0:x1]))
            rows.append(row)
            if len(figure) < figure_rows:
                figure.append((scene, result.rgb, recovered))
    measured = [r for r in rows if r.get("regions")]
    return {
        "photos": len(rows), "faces_per_photo": faces_per_photo, "size": list(size),
        "faces": faces_total, "faces_found": found_total,
        "outside_bit_exact": all(r["outside_bit_exact"] for r in measured),
        "mean": {"region": mean_metrics([m for r in measured for m in r["regions"]]),
                 "face": mean_metrics([m for r in measured for m in r["face_crops"]])},
        "bundle": bundle.describe(), "images": rows, "_figure": figure,
    }


def peak_memory_of(fn) -> tuple[object, int]:
    """``fn()`` and the peak bytes Python and NumPy allocated while it ran (tracemalloc; ONNX
    Runtime's own arena is not counted, see imn bench-photo)."""
    tracemalloc.start()
    try:
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak
