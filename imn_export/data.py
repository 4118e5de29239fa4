"""Face folders, the fixed validation split, and (protected, Mask) pair sampling."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from tqdm.auto import tqdm

from imn_export.io import read_rgb

# Every 13th image (by sorted name) is validation: 307 of the 3,979 shared faces, spread over
# the folder, which is ordered by gender and ethnicity.
VALIDATION_EVERY = 13


def split_train_val(paths: list[Path], every: int = VALIDATION_EVERY) -> tuple[list[Path], list[Path]]:
    """Deterministic split: index ``i`` (sorted order) goes to validation when ``i % every == 0``."""
    train = [p for i, p in enumerate(paths) if i % every]
    val = [p for i, p in enumerate(paths) if i % every == 0]
    return train, val


def load_faces(paths: list[Path], progress: bool = True) -> torch.Tensor:
    """Decode images into one ``(N, 3, H, W)`` uint8 tensor; all must share a size."""
    first = read_rgb(paths[0])
    faces = torch.empty((len(paths), 3, *first.shape[:2]), dtype=torch.uint8)
    for i, path in enumerate(tqdm(paths, desc="loading faces", unit="img", disable=not progress)):
        rgb = first if i == 0 else read_rgb(path)
        if rgb.shape != first.shape:
            raise ValueError(f"{path} is {rgb.shape[1]}x{rgb.shape[0]}, but {paths[0]} is "
                             f"{first.shape[1]}x{first.shape[0]}; training faces must share a size")
        faces[i] = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))
    return faces


class MaskSource(Protocol):
    """Where the Mask face of each protected face comes from."""

    def __call__(self, faces: torch.Tensor, index: torch.Tensor,
                 generator: torch.Generator) -> torch.Tensor:
        """Mask faces ``(B, 3, H, W)`` uint8 for ``faces[index]``."""


class OtherFaceMask:
    """Until Mask-net exists the Mask face is another, randomly chosen face of the same pool."""

    def __call__(self, faces: torch.Tensor, index: torch.Tensor,
                 generator: torch.Generator) -> torch.Tensor:
        n = faces.shape[0]
        offset = torch.randint(1, n, index.shape, generator=generator, device=generator.device)
        return faces[(index.to(offset.device) + offset) % n]


class MaskNetMask:
    """The paper's pipeline: the Mask face is Mask-net's output for the protected face with a
    randomly chosen preset identity (``identities`` ``(K, D)``)."""

    def __init__(self, masknet: torch.nn.Module, identities: torch.Tensor, chunk: int = 16):
        self.masknet = masknet.eval()
        self.identities = identities
        self.chunk = chunk

    @torch.no_grad()
    def __call__(self, faces: torch.Tensor, index: torch.Tensor,
                 generator: torch.Generator) -> torch.Tensor:
        pick = torch.randint(0, self.identities.shape[0], index.shape, generator=generator,
                             device=generator.device)
        protected = faces[index.to(faces.device)]
        identity = self.identities.to(faces.device)[pick.to(faces.device)]
        masks = [self.masknet(protected[i:i + self.chunk].float() / 255, identity[i:i + self.chunk])
                 for i in range(0, protected.shape[0], self.chunk)]
        return torch.cat(masks).mul(255).round().clamp(0, 255).to(torch.uint8)


class DonorMask:
    """Masks v2 (the product's default): each protected face under a random donor of the bank
    (``(K, S, S, 4)`` uint8, ``imn_export.donors.bank.read_bank``), composed as the SDKs do.

    With ``draws`` > 0, ``draws`` Masks per face are composed once, on the first batch, by
    ``workers`` processes, and each batch picks among them: composing on the fly costs about
    13 ms a face on one core, which would leave a GPU waiting."""

    def __init__(self, donors: np.ndarray, draws: int = 0, workers: int = 1, progress: bool = False,
                 seed: int = 0):
        if draws < 0:
            raise ValueError(f"donor draws must be >= 0, got {draws}")
        self.donors = donors
        self.draws, self.workers, self.progress, self.seed = draws, workers, progress, seed
        self.pool: torch.Tensor | None = None   # (N, draws, 3, S, S) uint8, on the faces' device

    def precompute(self, faces: torch.Tensor) -> torch.Tensor:
        """``draws`` Masks for each of ``faces (N, 3, S, S)`` uint8, donors drawn with the seed."""
        rng = np.random.default_rng(self.seed)
        picks = rng.integers(0, len(self.donors), (faces.shape[0], self.draws))
        protected = faces.permute(0, 2, 3, 1).cpu().numpy()
        jobs = [(i, j, int(k)) for i in range(len(protected)) for j, k in enumerate(picks[i])]
        out = np.empty((len(protected), self.draws, *protected.shape[1:]), np.uint8)
        if self.workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            # fork shares the faces with the workers; spawn and forkserver would pickle them to each
            context = (multiprocessing.get_context("fork")
                       if "fork" in multiprocessing.get_all_start_methods() else None)
            with ProcessPoolExecutor(self.workers, mp_context=context, initializer=_compose_init,
                                     initargs=(protected, self.donors)) as ex:
                results = ex.map(_compose_job, jobs, chunksize=64)
                for (i, j, _), mask in tqdm(zip(jobs, results), total=len(jobs), desc="donor Masks",
                                            unit="Mask", disable=not self.progress):
                    out[i, j] = mask
        else:
            from imn_sdk.masks import compose
            for i, j, k in tqdm(jobs, desc="donor Masks", unit="Mask", disable=not self.progress):
                out[i, j] = compose(protected[i], self.donors[k])
        return torch.from_numpy(out).permute(0, 1, 4, 2, 3).contiguous().to(faces.device)

    @torch.no_grad()
    def __call__(self, faces: torch.Tensor, index: torch.Tensor,
                 generator: torch.Generator) -> torch.Tensor:
        from imn_sdk.masks import compose

        if faces.shape[-2:] != self.donors.shape[1:3]:
            raise ValueError(f"donors are {self.donors.shape[1]} px, training faces {faces.shape[-1]} px")
        if self.draws:
            if self.pool is None or self.pool.shape[0] != faces.shape[0]:
                self.pool = self.precompute(faces)
            draw = torch.randint(0, self.draws, index.shape, generator=generator, device=generator.device)
            return self.pool[index.to(self.pool.device), draw.to(self.pool.device)]
        pick = torch.randint(0, len(self.donors), index.shape, generator=generator, device=generator.device)
        protected = faces[index.to(faces.device)].permute(0, 2, 3, 1).cpu().numpy()
        masks = np.stack([compose(face, self.donors[int(k)]) for face, k in zip(protected, pick.cpu())])
        return torch.from_numpy(masks).permute(0, 3, 1, 2).contiguous().to(faces.device)


_COMPOSE: dict = {}   # a worker's faces and donors (set in each forked worker, never in the parent)


def _compose_init(protected: np.ndarray, donors: np.ndarray) -> None:
    _COMPOSE["protected"], _COMPOSE["donors"] = protected, donors


def _compose_job(job: tuple[int, int, int]) -> np.ndarray:
    """Face ``i``'s Mask under donor ``k`` (``j``, its draw, says where it goes)."""
    from imn_sdk.masks import compose

    i, _, k = job
    return compose(_COMPOSE["protected"][i], _COMPOSE["donors"][k])


def photometric_jitter(x: torch.Tensor, generator: torch.Generator, probability: float = 0.5,
                       max_contrast: float = 1.8, max_shift: float = 0.3) -> torch.Tensor:
    """Random contrast and brightness per image, clipped to [0, 1]: ``(B, 3, H, W)``.

    The synthetic training faces rarely reach black or white, real photos often do, and a
    saturated Mask region leaves the hidden signal no room. This puts such regions into training.
    """
    b = x.shape[0]
    shape = (b, 1, 1, 1)
    rand = lambda: torch.rand(shape, generator=generator, device=x.device)  # noqa: E731
    contrast = 1 + (max_contrast - 1) * rand()
    pivot = rand()
    shift = (2 * rand() - 1) * max_shift
    jittered = ((x - pivot) * contrast + pivot + shift).clamp(0.0, 1.0)
    apply = rand() < probability
    return torch.where(apply, jittered, x)


class PairSampler:
    """Random (protected, Mask) training batches as float ``(B, 3, P, P)`` in [0, 1].

    Both faces are cropped at the same place (aligned faces line up) and flipped together;
    with ``jitter`` each face independently gets :func:`photometric_jitter`.
    ``faces`` stays uint8 on ``device``; crops are gathered there.
    """

    def __init__(self, faces: torch.Tensor, batch: int, patch: int, device: torch.device,
                 generator: torch.Generator, mask_source: MaskSource | None = None,
                 jitter: bool = False):
        height, width = faces.shape[-2:]
        if patch % 2 or patch > min(height, width):
            raise ValueError(f"patch {patch} must be even and at most {min(height, width)}")
        if faces.shape[0] < 2:
            raise ValueError("need at least two faces to pair")
        self.faces = faces.to(device)
        self.batch, self.patch, self.device = batch, patch, device
        self.generator = generator
        self.mask_source = mask_source or OtherFaceMask()
        self.jitter = jitter

    def sample(self) -> tuple[torch.Tensor, torch.Tensor]:
        g, n = self.generator, self.faces.shape[0]
        index = torch.randint(0, n, (self.batch,), generator=g, device=self.device)
        protected = self.faces[index]
        mask = self.mask_source(self.faces, index, g)
        height, width = protected.shape[-2:]
        top = int(torch.randint(0, height - self.patch + 1, (1,), generator=g, device=self.device))
        left = int(torch.randint(0, width - self.patch + 1, (1,), generator=g, device=self.device))
        crop = (slice(None), slice(None), slice(top, top + self.patch), slice(left, left + self.patch))
        pair = torch.cat([protected[crop], mask[crop]], dim=0).float().div_(255.0)
        if bool(torch.rand((), generator=g, device=self.device) < 0.5):
            pair = pair.flip(-1)
        if self.jitter:
            pair = photometric_jitter(pair, g)
        return pair[: self.batch], pair[self.batch:]
