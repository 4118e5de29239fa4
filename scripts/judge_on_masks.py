"""How well an identity encoder agrees with dlib on faces and on Mask-net's Masks of them.

The identity loss of ``imn train-masknet`` is only as good as this agreement on Masks (model card
``models/imn-masknet.md``). For the first N validation faces of --data: cosine between the
encoder's vector and dlib's descriptor (centred on the training split's mean, unit length, as the
encoder was taught), on each face and on its Mask (preset i mod K).

    python scripts/judge_on_masks.py models/imn-identity.pt runs/judge1/last.pt --limit 60
"""

from __future__ import annotations

import argparse

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("encoders", nargs="+", help="identity encoder checkpoints")
    parser.add_argument("--data", default="../shared/data/faces")
    parser.add_argument("--limit", type=int, default=60)
    args = parser.parse_args()

    from imn_export.evaluate.hiding import select_images
    from imn_export.identity.presets import load_presets
    from imn_export.evaluate.privacy import make_mask
    from imn_export.identity.teacher import DlibJudge
    from imn_export.io import read_rgb, to_tensor
    from imn_export.weights import MODELS_DIR, load_identity_encoder, load_masknet
    from imn_export.train.identity_trainer import teacher_targets

    torch.set_grad_enabled(False)
    masknet, presets = load_masknet(None), load_presets(MODELS_DIR / "identities.npy")
    mean = teacher_targets(args.data, progress=False)["mean"]
    judge = DlibJudge()
    images = {"faces": [], "Masks": []}
    for i, path in enumerate(select_images(args.data, "val", args.limit)):
        face = read_rgb(path)
        images["faces"].append(face)
        images["Masks"].append(make_mask(masknet, face, presets[i % len(presets)]))
    teacher = {}
    for kind, batch in images.items():
        described = np.stack([judge.read(image).descriptor for image in batch]) - mean
        teacher[kind] = described / np.linalg.norm(described, axis=1, keepdims=True)
    print(f"{len(images['faces'])} validation faces of {args.data}: mean cosine to dlib")
    for weights in args.encoders:
        encoder = load_identity_encoder(weights)
        row = {kind: float(np.mean([(encoder(to_tensor(image))[0].numpy() * t).sum()
                                    for image, t in zip(batch, teacher[kind])]))
               for kind, batch in images.items()}
        print(f"  {weights:<32} faces {row['faces']:.3f}   Masks {row['Masks']:.3f}")


if __name__ == "__main__":
    main()
