"""Distil dlib's face descriptor into the compact identity encoder (``imn train-identity``)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from imn_export.data import load_faces, photometric_jitter, split_train_val
from imn_export.identity.descriptor_cache import describe_folder
from imn_export.io import list_images
from imn_export.nn.identity_encoder import IdentityEncoder, IdentityEncoderConfig, embed, resize_faces
from imn_export.train.losses import distillation_loss
from imn_export.train.run_folder import RunFolder, StepBudget, cosine_lr


@dataclass
class IdentityTrainConfig:
    data: str
    out: str
    steps: int = 3000
    minutes: float | None = None
    batch: int = 64
    lr: float = 2e-3
    relation_weight: float = 1.0  # keep the batch's pairwise similarities as the teacher has them
    max_shift: int = 4            # random translation in pixels at the encoder's input size
    encoder: IdentityEncoderConfig = IdentityEncoderConfig(input_size=96, widths=(24, 48, 96, 160))
    seed: int = 0
    device: str = "cpu"
    checkpoint_every: int = 250
    teacher_cache: str | None = None  # default runs/cache/dlib-<folder>.npz
    init_from: str | None = None      # fine-tune these encoder weights (same architecture)
    mask_samples: str | None = None   # folder of Mask faces (imn make-masks): half of each batch
    progress: bool = True

    def to_dict(self) -> dict:
        d = asdict(self)
        d["encoder"] = self.encoder.to_dict()
        return d


def teacher_targets(data: str, cache: str | None = None,
                    progress: bool = True) -> dict[str, np.ndarray]:
    """dlib descriptors (plain and mirrored) of every face in ``data``, from the cache, centred
    on the training split's mean and made unit length.

    Raw dlib descriptors of two different people still have a cosine near 0.9 (they share a
    large mean); centred, different people are near 0 and the identity loss and AdaIN see the
    part that tells people apart.
    """
    cache = describe_folder(data, Path(cache) if cache else None, progress=progress)
    train, _ = split_train_val(list(range(len(cache["names"]))))
    mean = cache["descriptor"][train].mean(axis=0)
    return {**_centred(cache, mean), "mean": mean.astype(np.float32)}


def _centred(cache: dict[str, np.ndarray], mean: np.ndarray) -> dict[str, np.ndarray]:
    """A descriptor cache's plain and mirrored descriptors, centred on ``mean``, unit length."""
    unit = lambda v: (v - mean) / np.linalg.norm(v - mean, axis=1, keepdims=True)  # noqa: E731
    return {"names": cache["names"], "plain": unit(cache["descriptor"]),
            "mirrored": unit(cache["descriptor_flipped"])}


def extra_targets(folder: str, mean: np.ndarray, progress: bool = True) -> dict[str, np.ndarray]:
    """dlib descriptors of another folder (cached like ``teacher_targets``), centred on ``mean``
    so they live in the same space as the main folder's targets."""
    return _centred(describe_folder(folder, progress=progress), mean)


def _augment(faces: torch.Tensor, targets: torch.Tensor, mirrored: torch.Tensor, max_shift: int,
             generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    x = faces.float() / 255
    flip = torch.rand(x.shape[0], generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    y = torch.where(flip[:, None], mirrored, targets)
    if max_shift:
        dy, dx = (int(v) for v in torch.randint(-max_shift, max_shift + 1, (2,), generator=generator))
        x = torch.roll(F.pad(x, [max_shift] * 4, mode="replicate"), (dy, dx), (-2, -1))
        x = x[..., max_shift:-max_shift, max_shift:-max_shift]
    return photometric_jitter(x, generator, probability=0.5, max_contrast=1.3, max_shift=0.1), y


def _best_threshold(same: np.ndarray, different: np.ndarray) -> float:
    scores = np.sort(np.concatenate([same, different]))
    candidates = (scores[1:] + scores[:-1]) / 2  # between neighbours: no score sits on it
    accuracy = [((same >= t).sum() + (different < t).sum()) for t in candidates]
    return float(candidates[int(np.argmax(accuracy))])


def verification_report(vectors: np.ndarray, mirrored: np.ndarray, fit: slice,
                        test: slice) -> dict[str, float]:
    """Same pairs = a face and its mirror image, different pairs = faces i and i+1; the cosine
    threshold is fitted on ``fit`` and the accuracy measured on ``test``."""
    same = (vectors * mirrored).sum(1)
    different = (vectors * np.roll(vectors, -1, axis=0)).sum(1)
    threshold = _best_threshold(same[fit], different[fit])
    s, d = same[test], different[test]
    return {"threshold": threshold,
            "accuracy": float(((s >= threshold).sum() + (d < threshold).sum()) / (len(s) + len(d)))}


def agreement_report(encoder: IdentityEncoder, data: str, cache: str | None = None,
                     progress: bool = False) -> dict:
    """Student vs teacher on the validation split: cosine and pair verification accuracy."""
    paths = list_images(data)
    train_paths, val_paths = split_train_val(paths)
    targets = teacher_targets(data, cache, progress)
    index = {n: i for i, n in enumerate(targets["names"])}
    size = encoder.config.input_size
    report = {}
    for split, split_paths in (("train", train_paths[:1000]), ("val", val_paths)):
        faces = resize_faces(load_faces(split_paths, progress=progress), size)
        rows = [index[p.name] for p in split_paths]
        student = embed(encoder, faces)
        student_mirrored = embed(encoder, faces.flip(-1))
        report[split] = {"student": student, "student_mirrored": student_mirrored,
                         "teacher": targets["plain"][rows], "teacher_mirrored": targets["mirrored"][rows]}
    both = {k: np.concatenate([report["train"][k], report["val"][k]]) for k in report["val"]}
    n_fit = len(report["train"]["student"])
    fit, test = slice(0, n_fit), slice(n_fit, None)
    val = report["val"]
    return {
        "val_faces": len(val["student"]),
        "cosine_mean": float((val["student"] * val["teacher"]).sum(1).mean()),
        "cosine_p10": float(np.percentile((val["student"] * val["teacher"]).sum(1), 10)),
        "student_verification": verification_report(both["student"], both["student_mirrored"], fit, test),
        "teacher_verification": verification_report(both["teacher"], both["teacher_mirrored"], fit, test),
    }


def train_identity_encoder(config: IdentityTrainConfig, resume: bool = False) -> dict:
    run = RunFolder(config.out, resume)
    torch.manual_seed(config.seed)
    device = torch.device(config.device)
    paths = list_images(config.data)
    train_paths, _ = split_train_val(paths)
    targets = teacher_targets(config.data, config.teacher_cache, config.progress)
    rows = [int(np.flatnonzero(targets["names"] == p.name)[0]) for p in train_paths]
    plain = torch.from_numpy(targets["plain"][rows]).to(device)
    mirrored = torch.from_numpy(targets["mirrored"][rows]).to(device)
    faces = resize_faces(load_faces(train_paths, progress=config.progress),
                         config.encoder.input_size).to(device)
    main_count = faces.shape[0]
    if config.mask_samples:
        extra = extra_targets(config.mask_samples, targets["mean"], config.progress)
        extra_faces = resize_faces(load_faces(list_images(config.mask_samples), progress=config.progress),
                                   config.encoder.input_size).to(device)
        faces = torch.cat([faces, extra_faces])
        plain = torch.cat([plain, torch.from_numpy(extra["plain"]).to(device)])
        mirrored = torch.cat([mirrored, torch.from_numpy(extra["mirrored"]).to(device)])

    encoder = IdentityEncoder(config.encoder).to(device).train()
    if config.init_from and not run.state:
        from imn_export.weights import load_identity_encoder
        init = load_identity_encoder(config.init_from, device)
        if init.config != config.encoder:
            raise ValueError(f"--init-from {config.init_from} has architecture {init.config.to_dict()}, "
                             f"not {config.encoder.to_dict()}")
        encoder.load_state_dict(init.state_dict())
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=config.lr, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(config.seed)
    start_step, elapsed = 0, 0.0
    if run.state:
        encoder.load_state_dict(run.state["model"])
        optimizer.load_state_dict(run.state["optimizer"])
        generator.set_state(run.state["rng"])
        start_step, elapsed = run.state["step"], run.state["wall_seconds"]
    started = time.time()

    def save(step: int) -> None:
        run.save({"model": encoder.state_dict(), "optimizer": optimizer.state_dict(),
                  "identity_config": config.encoder.to_dict(), "config": config.to_dict(),
                  "teacher_mean": torch.from_numpy(targets["mean"]),
                  "step": step, "rng": generator.get_state(),
                  "wall_seconds": elapsed + time.time() - started})

    budget = StepBudget(config.steps, start_step, config.minutes, "train-identity", config.progress)
    running = None
    for step in budget:
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, config.steps, config.lr)
        index = torch.randint(0, main_count, (config.batch,), generator=generator)
        if faces.shape[0] > main_count:  # half of the batch from the Mask samples
            half = config.batch // 2
            index[half:] = torch.randint(main_count, faces.shape[0], (config.batch - half,),
                                         generator=generator)
        x, y = _augment(faces[index], plain[index], mirrored[index], config.max_shift, generator)
        loss = distillation_loss(encoder(x), y, config.relation_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        value = float(loss.detach())
        running = value if running is None else 0.95 * running + 0.05 * value
        budget.show(loss=running)
        if step % 50 == 0:
            run.log({"step": step, "loss": running, "elapsed": round(time.time() - started, 1)})
        if step % config.checkpoint_every == 0:
            save(step)
    save(budget.step)
    report = agreement_report(encoder.eval(), config.data, config.teacher_cache)
    run.log({"step": budget.step, "agreement": report})
    return {"steps": budget.step, "stopped_by_time": budget.stopped_by_time,
            "checkpoint": str(run.last), "loss": running, "agreement": report}
