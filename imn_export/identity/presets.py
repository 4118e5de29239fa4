"""Identity presets: replacement identities as vectors, so a phone needs no face images and no
identity encoder. ``identities.npy`` is ``(K, D)`` float32 unit rows; ``identities.json`` says
where each row came from."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import torch

from imn_export.data import split_train_val
from imn_export.io import atomic_output, list_images, read_rgb, write_json
from imn_export.nn.identity_encoder import IdentityEncoder, embed, resize_faces

PRESETS_NAME = "identities.npy"
PRESETS_INFO_NAME = "identities.json"


def read_labels(folder: Path) -> dict[str, tuple[str, ...]]:
    """``labels.csv`` beside the faces: file name -> the other columns (e.g. gender, ethnicity)."""
    path = Path(folder) / "labels.csv"
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return {row[0]: tuple(row[1:]) for row in rows[1:] if row}


def choose_preset_faces(folder: str | os.PathLike, per_group: int = 2) -> list[Path]:
    """Faces of the validation split (never trained on), ``per_group`` per label group
    (gender x ethnicity in ``labels.csv``: 8 groups, 16 presets); evenly spaced within a group."""
    _, val = split_train_val(list_images(folder))
    labels = read_labels(Path(folder))
    groups: dict[tuple[str, ...], list[Path]] = {}
    for path in val:
        groups.setdefault(labels.get(path.name, ()), []).append(path)
    chosen = []
    for key in sorted(groups):
        members = groups[key]
        step = max(1, len(members) // per_group)
        chosen += members[::step][:per_group]
    return chosen


def identity_vectors(encoder: IdentityEncoder, images: list[np.ndarray]) -> np.ndarray:
    """Unit identity vectors ``(K, D)`` float32 of ``(H, W, 3)`` uint8 aligned faces."""
    faces = torch.stack([torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
                         for img in images])
    size = encoder.config.input_size
    return embed(encoder, resize_faces(faces, size)).astype(np.float32)


def make_presets(encoder: IdentityEncoder, folder: str | os.PathLike, out_dir: str | os.PathLike,
                 per_group: int = 2) -> tuple[Path, Path]:
    """Write ``identities.npy`` and ``identities.json`` into ``out_dir`` from the shared faces."""
    paths = choose_preset_faces(folder, per_group)
    labels = read_labels(Path(folder))
    vectors = identity_vectors(encoder, [read_rgb(p) for p in paths])
    out_dir = Path(out_dir)
    npy = out_dir / PRESETS_NAME
    with atomic_output(npy) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, vectors)
    info = out_dir / PRESETS_INFO_NAME
    write_json(info, {"shape": list(vectors.shape), "dtype": "float32",
                      "source": "synthetic (GAN-generated) faces, validation split; no real person",
                      "presets": [{"index": i, "source_image": p.name,
                                   "labels": list(labels.get(p.name, ()))}
                                  for i, p in enumerate(paths)]})
    return npy, info


def load_presets(path: str | os.PathLike) -> np.ndarray:
    """``(K, D)`` float32 unit rows; clear error for anything else."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"identity presets not found: {path}")
    vectors = np.load(path, allow_pickle=False)
    if vectors.ndim != 2 or vectors.dtype != np.float32:
        raise ValueError(f"{path}: presets must be a (K, D) float32 array, got {vectors.shape} "
                         f"{vectors.dtype}")
    if not np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3):
        raise ValueError(f"{path}: preset rows must be unit vectors")
    return vectors


def preset_info(path: str | os.PathLike) -> dict:
    info = Path(path).with_name(PRESETS_INFO_NAME)
    return json.loads(info.read_text()) if info.is_file() else {}
