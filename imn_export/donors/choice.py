"""Choosing a donor far from the face by identity, as the SDKs do (sdk/spec/photo.md §3), with
the PyTorch encoder: what the exporter writes into the bundle and what the evaluation draws."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from imn_export.export.graphs import IDENTITY_INPUT_SIZE, IdentityGraph


def identity_input(face: np.ndarray) -> np.ndarray:
    """The identity graph's input ``(1, 3, 96, 96)`` float32 in [0, 1] of an aligned face
    ``(S, S, 3)`` uint8, box-resized as the SDKs resize it (Pillow's BOX)."""
    small = np.asarray(Image.fromarray(face).resize((IDENTITY_INPUT_SIZE,) * 2, Image.BOX))
    return (small.astype(np.float32) / 255).transpose(2, 0, 1)[None].copy()


@torch.no_grad()
def identity_vectors(encoder: torch.nn.Module, faces: list[np.ndarray]) -> np.ndarray:
    """Unit identity vectors ``(N, 128)`` of aligned faces, through the exported graph's maths."""
    graph = IdentityGraph(encoder.cpu().float()).eval()
    (vectors,) = graph(torch.from_numpy(np.concatenate([identity_input(f) for f in faces])))
    vectors = vectors.numpy()
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def donor_identities(encoder: torch.nn.Module, donors: np.ndarray) -> list[list[float]]:
    """Each donor's unit identity vector from its face as the bank stores it (zero outside the
    box), rounded for the manifest."""
    return np.round(identity_vectors(encoder, [d[..., :3] for d in donors]), 6).tolist()


def farthest(donor_vectors: np.ndarray, vector: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` donors least similar (cosine) to ``vector``, farthest first."""
    similarity = donor_vectors @ (vector / max(float(np.linalg.norm(vector)), 1e-12))
    return np.argsort(similarity, kind="stable")[:count]
