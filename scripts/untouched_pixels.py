"""Where no face was blended, how well do the masked and the revealed pixel each estimate the
original, and how well does their mix? (the numbers behind ``UNTOUCHED_MASKED_WEIGHT`` in
sdk/python/imn_sdk/pipeline.py and sdk/spec/photo.md §6 step 5).

For each face: Mask from Mask-net (preset i mod K), cover = the face with the Mask blended in
through the SDK's feathered ellipse (what a photo tile holds), hidden by ``--weights`` (default
the paper's weights, which chose the 0.8),
saved as 8-bit PNG, revealed. Reports recovery with the Mask itself, the blended and the face
itself as cover, then inside vs outside the ellipse and the masked/revealed mixes outside.

    python scripts/untouched_pixels.py ../shared/data/faces --split val --limit 40   # choose w
    python scripts/untouched_pixels.py ../shared/data/faces-real-eval --limit 30      # report
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk" / "python"))

from imn_export.evaluate.hiding import hide_reveal_png, select_images  # noqa: E402
from imn_export.evaluate.privacy import make_mask  # noqa: E402
from imn_export.io import read_rgb  # noqa: E402
from imn_export.weights import MODELS_DIR, PAPER_WEIGHTS_NAME, load_hiding_network, load_masknet  # noqa: E402
from imn_sdk.align import face_alpha  # noqa: E402

WEIGHTS = (0.5, 0.6, 0.7, 0.8, 0.9)


def psnr(mse: float) -> float:
    return 10 * np.log10(255 ** 2 / mse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images")
    parser.add_argument("--split", default="all")
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--weights", default=str(MODELS_DIR / PAPER_WEIGHTS_NAME),
                        help="hiding network (default the paper's weights, which chose 0.8)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    net, _ = load_hiding_network(args.weights)
    masknet = load_masknet()
    presets = np.load(Path(__file__).resolve().parents[1] / "models" / "identities.npy")
    paths = select_images(args.images, split=args.split, limit=args.limit)
    alpha = face_alpha(256)[..., None]
    inside = alpha[..., 0] > 0
    errors: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(paths):
            face = read_rgb(path)
            mask = make_mask(masknet, face, presets[i % len(presets)])
            blended = np.clip(np.rint(face * (1 - alpha) + mask * alpha), 0, 255).astype(np.uint8)
            truth = face.astype(np.float64)
            for name, cover in (("Mask", mask), ("blended", blended), ("the face itself", face)):
                out = hide_reveal_png(net, face, cover, Path(tmp) / "masked.png")
                recovered = out["recovered"].astype(np.float64)
                errors.setdefault(f"recovered, cover = {name}", []).append(((recovered - truth) ** 2).mean())
                if name != "blended":
                    continue
                masked = out["masked"].astype(np.float64)
                errors.setdefault("  blended cover, revealed inside the ellipse", []).append(((recovered - truth) ** 2)[inside].mean())
                errors.setdefault("  blended cover, revealed outside", []).append(((recovered - truth) ** 2)[~inside].mean())
                errors.setdefault("  blended cover, masked outside", []).append(((masked - truth) ** 2)[~inside].mean())
                for w in WEIGHTS:
                    mixed = np.rint(np.float32(w) * masked + (1 - np.float32(w)) * recovered)
                    errors.setdefault(f"  blended cover, mix w = {w} outside", []).append(((mixed - truth) ** 2)[~inside].mean())
    print(f"{len(paths)} faces of {args.images} ({args.split}); PSNR of the mean squared error:")
    for name, values in errors.items():
        print(f"{name:48s} {psnr(float(np.mean(values))):6.2f} dB")


if __name__ == "__main__":
    main()
