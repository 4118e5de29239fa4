"""What `--seal-quality compact` saves: the sealed plaintext of whole real-face photos at step 1
(lossless) and step 3 (every pixel within one level), and the PSNR step 3 keeps. README, "Threat
model".

    python scripts/seal_compact.py ../shared/data/faces-real-eval --limit 100
"""

from __future__ import annotations

import argparse

import numpy as np

from imn_export.evaluate.hiding import select_images
from imn_export.io import read_rgb
from imn_export.metrics import image_metrics
from imn_sdk import seal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images")
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    ratios, psnrs, lossless = [], [], []
    for path in select_images(args.images, "all", args.limit):
        rgb = read_rgb(path)
        region = [{"x": 0, "y": 0, "width": rgb.shape[1], "height": rgb.shape[0]}]
        sizes = {step: len(seal.pack(rgb, region, {}, step)) for step in seal.STEPS.values()}
        ratios.append(sizes[3] / sizes[1])
        lossless.append(sizes[1] / rgb.nbytes)
        back = seal.unpack(seal.pack(rgb, region, {}, 3), region, 3)[1][0]
        psnrs.append(image_metrics(rgb, back)["psnr"])
    print(f"{len(ratios)} photos: lossless {np.mean(lossless):.1%} of raw; compact {np.mean(ratios):.1%} of "
          f"lossless (min {min(ratios):.1%}, max {max(ratios):.1%}); compact PSNR mean {np.mean(psnrs):.2f}, "
          f"min {min(psnrs):.2f} dB")


if __name__ == "__main__":
    main()
