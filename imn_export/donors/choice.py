"""Choosing a donor far from the face by identity, as the SDKs do (sdk/spec/photo.md §3), with
the PyTorch encoder: what the exporter writes into the bundle and what the evaluation draws."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from imn_export.nn.identity_encoder import IDENTITY_INPUT_SIZE, IdentityGraph


def identity_input(face: np.ndarray) -> np.ndarray:
    """The identity graph's input ``(1, 3, 96, 96)`` float32 in [0, 1] of an aligned face
    ``(S, S, 3)`` uint8, box-resized as the SDKs resize it (Pillow's BOX)."""
    small = np.asarray(Image.fromarray(face).resize((IDENTITY_INPUT_SIZE,) * 2, Image.BOX))
    return (small.astype(np.float32) / 255).transpose(2, 0, 1)[None].copy()


def identity_graph(encoder: torch.nn.Module) -> IdentityGraph:
    """The exported ``identity`` graph's maths in PyTorch (BatchNorm folded): build it once."""
    return IdentityGraph(encoder.cpu().float()).eval()


@torch.no_grad()
def identity_vectors(graph: IdentityGraph, faces: list[np.ndarray]) -> np.ndarray:
    """Unit identity vectors ``(N, 128)`` of aligned faces as the SDKs compute them: box-resized
    by Pillow, through the exported graph. (``identity.presets.identity_vectors`` resizes with
    torch's area filter, as the encoder was trained; Mask-net's presets keep that.)"""
    (vectors,) = graph(torch.from_numpy(np.concatenate([identity_input(f) for f in faces])))
    vectors = vectors.numpy()
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def donor_identities(graph: IdentityGraph, donors: np.ndarray) -> list[list[float]]:
    """Each donor's unit identity vector from its face as the bank stores it (zero outside the
    box), rounded for the manifest."""
    return np.round(identity_vectors(graph, [d[..., :3] for d in donors]), 6).tolist()


def encoder_fingerprint(encoder: torch.nn.Module) -> str:
    """SHA-256 of an encoder's weights (names and float32 values): which encoder read a vector."""
    import hashlib

    h = hashlib.sha256()
    for name, tensor in sorted(encoder.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().float().contiguous().numpy().tobytes())
    return h.hexdigest()


def bank_identities(entry: dict, donors: np.ndarray, encoder: torch.nn.Module) -> list[list[float]]:
    """Each donor's unit identity vector for the bank whose manifest entry is ``entry``
    (``donors.bank.manifest_entry``): read from its faces as stored, or, for a bank whose rims
    were filled after the donors were read (``imn make-donors --fill-rim``), the vectors it
    keeps, which must come from ``encoder``."""
    from imn_export.donors.bank import IDENTITY_READ

    stored = entry.get(IDENTITY_READ)
    if stored is None:
        return donor_identities(identity_graph(encoder), donors)
    if stored["encoder"] != encoder_fingerprint(encoder):
        raise ValueError("this donor bank's identities were read by another identity encoder and its "
                         "pixels cannot be read again (their rims are filled): rebuild it with imn make-donors")
    if len(stored["vectors"]) != len(donors):
        raise ValueError(f"the bank keeps {len(stored['vectors'])} identity vectors for {len(donors)} donors")
    return stored["vectors"]


def fit_sex_classifier(data, encoder: torch.nn.Module, steps: int = 3000, progress: bool = True) -> dict:
    """A logistic regression from the unit identity vector to apparent sex ("male" in
    ``labels.csv``), fitted on the training split of ``data``, class-balanced; reports its
    accuracy on the validation split. So a face can get a donor of its own apparent sex: the
    farthest donors by identity are mostly of the other sex (95% on synthetic validation faces)."""
    import csv
    from pathlib import Path

    from tqdm.auto import tqdm

    from imn_export.io import list_images, read_rgb
    from imn_export.data import split_train_val

    labels = {r["file"]: r["gender"] for r in csv.DictReader(open(Path(data) / "labels.csv"))}
    train, val = split_train_val(list_images(data))

    graph = identity_graph(encoder)

    def vectors(paths):
        return np.concatenate([identity_vectors(graph, [read_rgb(p) for p in paths[i:i + 64]])
                               for i in tqdm(range(0, len(paths), 64), desc="identity", disable=not progress)])

    x, y = vectors(train), np.array([labels[p.name] == "male" for p in train], np.float64)
    weights, bias = np.zeros(x.shape[1]), 0.0
    balance = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    for _ in range(steps):
        grad = (1 / (1 + np.exp(-(x @ weights + bias))) - y) * balance
        weights -= 0.5 * (x.T @ grad / len(y) + 1e-3 * weights)
        bias -= 0.5 * float(grad.mean())
    xv, yv = vectors(val), np.array([labels[p.name] == "male" for p in val])
    accuracy = float(((xv @ weights + bias > 0) == yv).mean())
    return {"weights": np.round(weights, 6).tolist(), "bias": round(bias, 6), "label": "male",
            "validation_accuracy": round(accuracy, 4), "validation_faces": len(val),
            "fitted_on": f"{len(train)} training-split faces of {Path(data).name}/labels.csv"}

