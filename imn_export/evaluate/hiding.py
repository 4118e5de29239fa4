"""``imn eval``: hide, save the masked face as an 8-bit PNG, read it back, reveal, measure."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image, ImageDraw
from tqdm.auto import tqdm

from imn_export.data import split_train_val
from imn_export.io import list_images, read_rgb, to_tensor, to_uint8, write_png
from imn_export.metrics import METRIC_NAMES, image_metrics, mean_metrics
from imn_export.nn.auxiliary import sample_aux
from imn_export.nn.hiding import HidingNetwork

SPLITS = ("all", "train", "val")
DIFF_GAIN = 20  # the paper's Fig. 4 shows |difference| x 20


def select_images(folder: str | Path, split: str = "all", limit: int | None = None) -> list[Path]:
    """Sorted images of ``folder``, optionally only the training split's ``val`` or ``train`` part."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    paths = list_images(folder)
    if split != "all":
        paths = dict(zip(("train", "val"), split_train_val(paths)))[split]
    if limit:
        paths = paths[:limit]
    if len(paths) < 2:
        raise ValueError(f"need at least two images to pair, found {len(paths)} in {folder}")
    return paths


def folder_pairs(paths: list[Path]) -> list[tuple[Path, Path]]:
    """Pairing rule for a plain folder: image i is protected, image i+1 (wrapping) is its Mask."""
    return [(paths[i], paths[(i + 1) % len(paths)]) for i in range(len(paths))]


@torch.no_grad()
def hide_reveal_png(net: HidingNetwork, protected: np.ndarray, mask: np.ndarray, png_path: Path,
                    aux_kind: str = "zeros", aux_std: float = 1.0,
                    device: torch.device | str = "cpu") -> dict[str, np.ndarray]:
    """The user's round trip for one pair of ``(H, W, 3)`` uint8 faces, via a real PNG file."""
    if protected.shape != mask.shape:
        raise ValueError(f"protected {protected.shape} and Mask {mask.shape} differ in size")
    masked, lost = net.hide(to_tensor(protected).to(device), to_tensor(mask).to(device))
    write_png(png_path, to_uint8(masked))
    masked8 = read_rgb(png_path)
    recovered, mask_recovered = net.reveal(to_tensor(masked8).to(device),
                                           sample_aux(lost, aux_kind, aux_std))
    return {"masked": masked8, "recovered": to_uint8(recovered),
            "mask_recovered": to_uint8(mask_recovered)}


def evaluate_pairs(net: HidingNetwork, pairs: list[tuple[Path, Path]], aux_kind: str = "zeros",
                   aux_std: float = 1.0, device: torch.device | str = "cpu",
                   save_dir: str | Path | None = None, figure: str | Path | None = None,
                   figure_count: int = 6, progress: bool = True,
                   make_mask: Callable[[np.ndarray, int], tuple[np.ndarray, str]] | None = None) -> dict:
    """Measure (protected, recovered) and (Mask, masked) for every pair; optional Fig.-4 grid.

    ``make_mask(protected, i) -> (Mask, label)`` replaces the pair's Mask image (Mask-net).
    """
    rows, samples = [], []
    with tempfile.TemporaryDirectory(prefix="imn-eval-") as tmp:
        out_dir = Path(save_dir) if save_dir else Path(tmp)
        for i, (protected_path, mask_path) in enumerate(tqdm(pairs, desc="eval", unit="pair",
                                                             disable=not progress)):
            protected = read_rgb(protected_path)
            if make_mask:
                mask, mask_label = make_mask(protected, i)
            else:
                mask, mask_label = read_rgb(mask_path), mask_path.name
            result = hide_reveal_png(net, protected, mask, out_dir / f"{protected_path.stem}_masked.png",
                                     aux_kind, aux_std, device)
            rows.append({"protected": protected_path.name, "mask": mask_label,
                         "recovered": image_metrics(protected, result["recovered"]),
                         "masked": image_metrics(mask, result["masked"])})
            if len(samples) < figure_count:
                samples.append((protected, result["recovered"], mask, result["masked"]))
    if figure:
        write_png(figure, comparison_grid(samples))
    return {"n": len(rows), "aux": {"kind": aux_kind, "std": aux_std},
            "measured_on": "masked face written as 8-bit PNG and read back; recovered face rounded to 8 bits",
            "mean": {"recovered": mean_metrics([r["recovered"] for r in rows]),
                     "masked": mean_metrics([r["masked"] for r in rows])},
            "images": rows}


def _difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)) * DIFF_GAIN
    return np.clip(diff, 0, 255).astype(np.uint8)


def image_grid(rows: list[list[np.ndarray]], titles: list[str] | tuple[str, ...]) -> np.ndarray:
    """Equal-sized ``(H, W, 3)`` uint8 tiles as a titled grid: one list per row, one title per column."""
    header = 18
    h, w = rows[0][0].shape[:2]
    canvas = Image.new("RGB", (w * len(titles), header + h * len(rows)), "white")
    draw = ImageDraw.Draw(canvas)
    for col, title in enumerate(titles):
        draw.text((col * w + 4, 3), title, fill="black")
    for row, tiles in enumerate(rows):
        for col, tile in enumerate(tiles):
            canvas.paste(Image.fromarray(tile), (col * w, header + row * h))
    return np.asarray(canvas)


def comparison_grid(samples: list[tuple[np.ndarray, ...]]) -> np.ndarray:
    """Paper Fig. 4 as rows: protected | recovered | |p-r|x20 | Mask | masked | |M-m|x20."""
    titles = ("protected", "recovered", f"|diff| x{DIFF_GAIN}", "Mask", "masked", f"|diff| x{DIFF_GAIN}")
    return image_grid([[protected, recovered, _difference(protected, recovered),
                        mask, masked, _difference(mask, masked)]
                       for protected, recovered, mask, masked in samples], titles)


def format_table(results: dict, per_image: bool) -> str:
    """A text table like the paper's Table 3 (per image when asked, then the mean)."""
    head = ["image"] + [f"rec {m}" for m in METRIC_NAMES] + [f"masked {m}" for m in METRIC_NAMES]
    rows = []
    if per_image:
        rows += [[r["protected"]] + [r["recovered"][m] for m in METRIC_NAMES]
                 + [r["masked"][m] for m in METRIC_NAMES] for r in results["images"]]
    mean = results["mean"]
    rows.append([f"mean (n={results['n']})"] + [mean["recovered"][m] for m in METRIC_NAMES]
                + [mean["masked"][m] for m in METRIC_NAMES])
    cells = [[c if isinstance(c, str) else (f"{c:.4f}" if "ssim" in h else f"{c:.2f}")
              for c, h in zip(row, head)] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(head)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
