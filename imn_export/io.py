"""Image files <-> tensors. Pillow does the decoding and encoding."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    return paths


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as ``(H, W, 3)`` uint8 RGB; clear error for non-images."""
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode != "RGB":
                image = image.convert("RGB")
            return np.asarray(image, dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"cannot read {path} as an image: {error}") from error


def _default_file_mode() -> int:
    """0o666 less the umask: what ``open()`` would have given (mkstemp makes files 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on success it is renamed over ``path``, so readers
    never see half a file and a crash leaves the old file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_png(path: str | os.PathLike, rgb: np.ndarray) -> None:
    """Write ``(H, W, 3)`` uint8 as PNG, atomically."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"write_png expects (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    with atomic_output(path) as tmp:
        Image.fromarray(rgb, "RGB").save(tmp, format="PNG")


def write_json(path: str | os.PathLike, data: dict) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """``(H, W, 3)`` uint8 -> ``(1, 3, H, W)`` float32 in [0, 1]."""
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float().div(255.0)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """``(1, 3, H, W)`` or ``(3, H, W)`` float in [0, 1] -> ``(H, W, 3)`` uint8, clipped and rounded."""
    if x.dim() == 4:
        if x.shape[0] != 1:
            raise ValueError(f"to_uint8 takes one image, got batch of {x.shape[0]}")
        x = x[0]
    return x.detach().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
