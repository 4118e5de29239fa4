"""Mask faces written as images, so dlib can label them for the identity encoder (``imn make-masks``).

The distilled encoder agrees with dlib far less on Mask-net's outputs than on natural faces
(cosine 0.55 against 0.80 on 60 validation faces, 2026-11-27): a generator trained against it
learns what the encoder reads, not identity. Its Masks, labelled by dlib through the descriptor
cache like any face folder, are the training data that closes that gap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from imn_export.data import load_faces, split_train_val
from imn_export.io import list_images, to_uint8, write_png


@torch.no_grad()
def write_mask_samples(masknet: torch.nn.Module, encoder: torch.nn.Module, data: str | Path,
                       out: str | Path, count: int, seed: int = 0, batch: int = 16,
                       progress: bool = True) -> list[Path]:
    """Mask faces of ``count`` training-split faces of ``data``, each given another training
    face's identity (as ``train-masknet`` asks for them), as ``out/<face name>.png``.

    Existing files are kept, so an interrupted run continues where it stopped. Returns the paths.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    train, _ = split_train_val(list_images(data))
    if count > len(train):
        raise ValueError(f"{data} has {len(train)} training faces; asked for {count}")
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(train), count, replace=False))
    donors = [(i + int(rng.integers(1, len(train)))) % len(train) for i in chosen]
    targets = [out / f"{train[i].stem}.png" for i in chosen]
    masknet.eval()
    encoder.eval()
    for start in tqdm(range(0, count, batch), desc="make-masks", unit="batch", disable=not progress):
        todo = [k for k in range(start, min(count, start + batch)) if not targets[k].exists()]
        if not todo:
            continue
        faces = load_faces([train[chosen[k]] for k in todo], progress=False).float() / 255
        donor_faces = load_faces([train[donors[k]] for k in todo], progress=False).float() / 255
        masks = masknet(faces, encoder(donor_faces))
        for k, mask in zip(todo, masks):
            write_png(targets[k], to_uint8(mask))
    return targets
