"""Why keyed hiding costs the masked image: how much of masked-vs-Mask quality comes from the
secret resembling its cover (issue #6 diagnosis).

For each real face, the Mask comes from Mask-net (preset i mod K, as ``imn eval-keys``), and one
hiding network hides three secrets in that same Mask, each through an 8-bit PNG:

- ``own``: the protected face itself (what keyless protection hides; the Mask has its pose);
- ``other``: another real face (a natural image unrelated to the cover);
- ``scrambled``: the protected face scrambled by a fresh random key (what the first keyed release
  hid; keyed photos now scramble the cover instead, ``sdk/spec/photo.md`` §7).

``own`` vs ``other`` is what a secret that looks like its cover is worth; ``other`` vs
``scrambled`` is what the scramble's piece borders cost. Run for the keyless and the keyed
weights:

    python scripts/masked_vs_secret.py ../shared/data/faces-real-eval --limit 60 \
        --weights models/imn-inn-paper.pt models/imn-inn-keyed.pt

``--pieces 16 32 64`` instead measures scrambles of those piece sizes, with and without the
turns, masked-vs-Mask and recovered (unscrambled) PSNR.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

SECRETS = ("own", "other", "scrambled")


def masked_psnr_by_secret(net, masknet, presets: np.ndarray, paths: list[Path], piece: int) -> dict:
    from imn_export.evaluate.hiding import hide_reveal_png
    from imn_export.evaluate.privacy import make_mask
    from imn_export.io import read_rgb
    from imn_export.evaluate.keys import sdk_tile_scramble
    from imn_export.metrics import image_metrics
    from imn_sdk import keys

    faces = [read_rgb(p) for p in paths]
    psnr = {name: [] for name in SECRETS}
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        png = Path(tmp) / "masked.png"
        for i, face in enumerate(faces):
            mask = make_mask(masknet, face, presets[i % len(presets)])
            secrets = {"own": face, "other": faces[(i + 1) % len(faces)],
                       "scrambled": keys.scramble(face, *sdk_tile_scramble(face.shape[0], piece), piece)}
            for name, secret in secrets.items():
                masked = hide_reveal_png(net, secret, mask, png)["masked"]
                psnr[name].append(image_metrics(mask, masked)["psnr"])
    return {name: float(np.mean(values)) for name, values in psnr.items()}


def scramble_variants(net, masknet, presets: np.ndarray, paths: list[Path],
                      pieces: list[int]) -> dict[str, tuple[float, float]]:
    """Mean (masked-vs-Mask, recovered) PSNR per scramble: piece size x with or without turns."""
    from imn_export.evaluate.hiding import hide_reveal_png
    from imn_export.evaluate.privacy import make_mask
    from imn_export.io import read_rgb
    from imn_export.metrics import image_metrics
    from imn_sdk import keys

    rng = np.random.default_rng(1)
    rows: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        png = Path(tmp) / "masked.png"
        for i, path in enumerate(paths):
            face = read_rgb(path)
            mask = make_mask(masknet, face, presets[i % len(presets)])
            for piece in pieces:
                for turned in (True, False):
                    count = (face.shape[0] // piece) * (face.shape[1] // piece)
                    order = rng.permutation(count)
                    turns = rng.integers(0, 8, count) if turned else np.zeros(count, np.int64)
                    out = hide_reveal_png(net, keys.scramble(face, order, turns, piece), mask, png)
                    recovered = keys.unscramble(out["recovered"], order, turns, piece)
                    rows.setdefault(f"{piece} px, {'turns' if turned else 'no turns'}", []).append(
                        (image_metrics(mask, out["masked"])["psnr"], image_metrics(face, recovered)["psnr"]))
    return {name: tuple(np.mean(values, axis=0)) for name, values in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images")
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--weights", nargs="+", default=["models/imn-inn-paper.pt"])
    parser.add_argument("--piece", type=int, default=32)
    parser.add_argument("--pieces", type=int, nargs="+", help="measure scramble piece sizes instead")
    args = parser.parse_args()

    from imn_export.evaluate.hiding import select_images
    from imn_export.identity.presets import load_presets
    from imn_export.weights import MODELS_DIR, load_hiding_network, load_masknet

    torch.set_grad_enabled(False)
    paths = select_images(args.images, "all", args.limit)
    masknet, presets = load_masknet(None), load_presets(MODELS_DIR / "identities.npy")
    if args.pieces:
        for weights in args.weights:
            net, _ = load_hiding_network(weights)
            print(f"{weights}, {len(paths)} faces: scramble -> masked-vs-Mask / recovered PSNR (dB)")
            for name, (masked, recovered) in scramble_variants(net, masknet, presets, paths,
                                                               args.pieces).items():
                print(f"  {name:<18} {masked:6.2f} {recovered:6.2f}")
        return
    print(f"{len(paths)} faces of {args.images}; masked-vs-Mask PSNR (dB) by what is hidden")
    print(f"{'weights':<28}" + "".join(f"{name:>11}" for name in SECRETS))
    for weights in args.weights:
        net, _ = load_hiding_network(weights)
        row = masked_psnr_by_secret(net, masknet, presets, paths, args.piece)
        print(f"{weights:<28}" + "".join(f"{row[name]:>11.2f}" for name in SECRETS))


if __name__ == "__main__":
    main()
