"""Why recovered photos show faint lines 256 px apart (issue #16): the hiding network reveals the
outermost pixels of every tile worse than its interior, so two tiles side by side put two weak
lines together. Hides single 256-px crops of real faces (another face as cover, as a blended tile
is) through a bundle, rounds to 8 bits, reveals with aux = 0, and prints the mean absolute error
(0-255) by distance to the nearest tile edge.

    python scripts/tile_edge_error.py --bundle dist --faces ../shared/data/faces-real-eval --pairs 6
"""

import argparse

import numpy as np
from PIL import Image

from imn_export.io import list_images
from imn_sdk import Bundle

BINS = [0, 1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 129]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bundle", default="dist", help="bundle folder with an ONNX target")
    p.add_argument("--faces", default="../shared/data/faces-real-eval", help="folder of face photos")
    p.add_argument("--pairs", type=int, default=6, help="tiles measured (default 6)")
    args = p.parse_args()
    bundle = Bundle(args.bundle, threads=2)
    tile = bundle.size
    paths = list_images(args.faces)[:2 * args.pairs]
    rng = np.random.default_rng(0)
    to_edge = np.minimum(np.arange(tile), tile - 1 - np.arange(tile))
    distance = np.minimum(to_edge[None, :], to_edge[:, None])  # (tile, tile)
    errors = []
    for protected_path, cover_path in zip(paths[::2], paths[1::2]):
        # Faces at about the size the reported photo had (650 px), one random tile of each.
        protected, cover = (np.asarray(Image.open(p).convert("RGB").resize((650, 650), Image.LANCZOS))
                            for p in (protected_path, cover_path))
        y, x = rng.integers(0, 650 - tile, 2)
        original = protected[y:y + tile, x:x + tile]
        revealed = bundle.reveal(bundle.hide(original, cover[y:y + tile, x:x + tile]))
        errors.append(np.abs(revealed.astype(float) - original).mean(2))
    error = np.mean(errors, 0)
    interior = error[distance >= 8].mean()
    print(f"{len(errors)} tiles of {tile} px; mean abs error by distance to the tile edge "
          f"(interior, 8 px and more: {interior:.2f}):")
    for low, high in zip(BINS[:-1], BINS[1:]):
        value = error[(distance >= low) & (distance < high)].mean()
        print(f"  {low:>3}-{high - 1:<3} px  {value:.2f}  x{value / interior:.2f}")


if __name__ == "__main__":
    main()
