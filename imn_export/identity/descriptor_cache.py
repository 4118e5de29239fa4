"""The teacher's descriptors of a face folder, computed once and kept in an ``.npz``.

dlib takes about 0.1 s per face on one core; training the student encoder reads every face many
times, so the descriptors of each face and of its mirror image are cached. The cache records each
file's name and size and is recomputed for any file that changed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from imn_export.identity.teacher import DlibJudge
from imn_export.io import atomic_output, list_images, read_rgb

DEFAULT_CACHE_DIR = Path("runs/cache")


def cache_path_for(folder: str | os.PathLike, cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    return cache_dir / f"dlib-{Path(folder).resolve().name}.npz"


def _fingerprint(path: Path) -> str:
    return f"{path.name}:{path.stat().st_size}"


def describe_folder(folder: str | os.PathLike, cache: Path | None = None,
                    judge: DlibJudge | None = None, progress: bool = True) -> dict[str, np.ndarray]:
    """Descriptors of every image in ``folder``: a dict of arrays aligned with sorted file names.

    Keys: ``names`` (N,), ``descriptor`` and ``descriptor_flipped`` (N, 128) float32, ``faces``
    (N,) detector count, ``landmarks`` (N, 5, 2).
    """
    paths = list_images(folder)
    cache = cache or cache_path_for(folder)
    known: dict[str, int] = {}
    old: dict[str, np.ndarray] = {}
    if cache.exists():
        with np.load(cache) as stored:
            old = {k: stored[k] for k in stored.files}
        known = {str(f): i for i, f in enumerate(old["fingerprint"])}
    prints = [_fingerprint(p) for p in paths]
    out = {"names": np.array([p.name for p in paths]), "fingerprint": np.array(prints),
           "descriptor": np.zeros((len(paths), 128), np.float32),
           "descriptor_flipped": np.zeros((len(paths), 128), np.float32),
           "faces": np.zeros(len(paths), np.int32),
           "landmarks": np.zeros((len(paths), 5, 2), np.float32)}
    todo = []
    done = np.ones(len(paths), bool)
    for i, fp in enumerate(prints):
        j = known.get(fp)
        if j is None:
            todo.append(i)
            done[i] = False
            continue
        for key in ("descriptor", "descriptor_flipped", "faces", "landmarks"):
            out[key][i] = old[key][j]
    if todo:
        judge = judge or DlibJudge()
        for n, i in enumerate(tqdm(todo, desc=f"dlib descriptors of {Path(folder).name}",
                                   unit="face", disable=not progress)):
            rgb = read_rgb(paths[i])
            reading = judge.read(rgb)
            out["descriptor"][i] = reading.descriptor
            out["faces"][i] = reading.faces
            out["landmarks"][i] = reading.landmarks
            out["descriptor_flipped"][i] = judge.read(rgb[:, ::-1]).descriptor
            done[i] = True
            if (n + 1) % 500 == 0:
                _save(cache, out, done)  # an interrupted first run keeps what it computed
        _save(cache, out, done)
    return out


def _save(cache: Path, arrays: dict[str, np.ndarray], done: np.ndarray) -> None:
    # Faces not described yet get no fingerprint, so a resumed run computes them.
    arrays = dict(arrays, fingerprint=np.where(done, arrays["fingerprint"], ""))
    with atomic_output(cache) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
