"""Images the exporter feeds its graphs: calibration (int8) and checks (parity, recovery).

Both come from a recorded list of shared faces when those are beside the checkout, and from
public-domain photos shipped inside scikit-image otherwise, so an export runs anywhere and the
manifest says which source it used. Images are squared by a centre crop and resized to the
artifact size with PIL's bicubic filter, then scaled to float32 ``[0, 1]``, ``(1, 3, S, S)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imn_export.io import read_rgb
from imn_sdk.bundle import file_sha256

REPO = Path(__file__).resolve().parents[2]
CALIBRATION_MANIFEST = REPO / "calibration" / "faces.json"
SHARED_DATA = REPO.parent / "shared" / "data"
CHECK_FACES = SHARED_DATA / "faces-real-eval"
FALLBACK_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry",
                   "hubble_deep_field")  # shipped inside scikit-image, no download


@dataclass
class ImageSet:
    images: list[np.ndarray]  # uint8 (S, S, 3)
    source: str

    def pairs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Image i is protected, image i+1 its Mask (wrapping), as ``imn eval`` pairs a folder."""
        n = len(self.images)
        return [(self.images[i], self.images[(i + 1) % n]) for i in range(n)]


def square_resize(rgb: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(np.ascontiguousarray(rgb[top:top + side, left:left + side]))
    if side != size:
        square = square.resize((size, size), Image.BICUBIC)
    return np.asarray(square, dtype=np.uint8)


def to_nchw(rgb: np.ndarray) -> np.ndarray:
    return (rgb.astype(np.float32) / 255.0).transpose(2, 0, 1)[None].copy()


def fallback_photos(size: int) -> ImageSet:
    from skimage import data

    images = [square_resize(data.astronaut()[0:256, 128:384], size)]  # the astronaut's face
    for name in FALLBACK_PHOTOS:
        rgb = getattr(data, name)()
        if rgb.ndim == 2:
            rgb = np.stack([rgb] * 3, axis=-1)
        images.append(square_resize(rgb[..., :3], size))
    return ImageSet(images, "scikit-image photos: astronaut face crop, " + ", ".join(FALLBACK_PHOTOS))


def write_calibration_manifest(data_dir: Path, files: list[Path], out: Path = CALIBRATION_MANIFEST) -> dict:
    manifest = {
        "schema_version": 1,
        "purpose": "int8 calibration of the hide and reveal graphs (imn-export --precision int8)",
        "source_dir": "../shared/data/faces (beside the checkout; never committed)",
        "selection": "training split only (no validation face), evenly spaced over sorted names",
        "preprocessing": "RGB, centre square crop, PIL bicubic resize to the artifact size, "
                         "float32 / 255, NCHW",
        "hide_inputs": "protected = image i, mask = image i+1 (wrapping)",
        "reveal_inputs": "masked = fp32 reference hide of those pairs (float, not rounded), aux = "
                         "the true lost information: every coupling function then sees in reveal "
                         "exactly what it saw in hide, so min/max calibration gives both graphs "
                         "the same int8 ranges",
        "fallback": "scikit-image photos " + ", ".join(FALLBACK_PHOTOS) + " when the faces are absent",
        "files": [{"name": p.name, "sha256": file_sha256(p)} for p in files],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def calibration_images(size: int, manifest_path: Path = CALIBRATION_MANIFEST,
                       data_dir: Path = SHARED_DATA / "faces") -> ImageSet:
    """The calibration faces listed in ``calibration/faces.json``, verified by sha256."""
    manifest = json.loads(Path(manifest_path).read_text())
    entries = manifest["files"]
    if not all((data_dir / e["name"]).exists() for e in entries):
        return fallback_photos(size)
    images = []
    for entry in entries:
        path = data_dir / entry["name"]
        if file_sha256(path) != entry["sha256"]:
            raise ValueError(f"{path} does not match its sha256 in {manifest_path}: the calibration "
                             "set changed, so an int8 export would not be reproducible")
        images.append(square_resize(read_rgb(path), size))
    return ImageSet(images, f"{len(images)} faces listed in calibration/{Path(manifest_path).name}")


def check_images(size: int, count: int = 8, folder: Path | None = None) -> ImageSet:
    """Faces for parity and recovery checks: ``folder`` (default the real-face evaluation set
    beside the checkout), else the scikit-image photos."""
    folder = Path(folder) if folder else CHECK_FACES
    if folder.is_dir():
        from imn_export.io import list_images

        paths = list_images(folder)[:count]
        if len(paths) >= 2:
            return ImageSet([square_resize(read_rgb(p), size) for p in paths],
                            f"first {len(paths)} images of {folder.name}/")
    return fallback_photos(size)
