"""Training loop of the hiding network (``imn train-inn``)."""

from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from imn_export.data import PairSampler, load_faces, split_train_val
from imn_export.io import list_images
from imn_export.nn.auxiliary import sample_aux
from imn_export.nn.hiding import HidingConfig, HidingNetwork
from imn_export.train.losses import (LossWeights, embedding_loss, low_frequency_loss,
                                     quantize_8bit, recovering_loss, total_loss)
from imn_export.train.qat import enable_fake_quant
from imn_export.train.run_folder import RunFolder, cosine_lr
from imn_export.weights import load_checkpoint

WARMUP_STEPS = 100
MAX_BAD_STEPS = 20
AUTO_STEPS_PROBE = 30  # steps timed before --steps 0 turns --minutes into a step count
KEY_TARGETS = ("cover", "face")


@dataclass
class TrainConfig:
    data: str
    out: str
    steps: int = 20_000  # 0: as many as fit in ``minutes`` (measured after a short probe)
    minutes: float | None = None
    batch: int = 8
    patch: int = 64
    lr: float = 2e-4
    min_lr_fraction: float = 0.05
    weights: LossWeights = field(default_factory=LossWeights)
    hiding: HidingConfig = field(default_factory=HidingConfig)
    aux: str = "zeros"
    aux_std: float = 1.0
    round_8bit: bool = True
    jitter: bool = True  # photometric_jitter: saturated regions, as real photos have
    seed: int = 0
    device: str = "cpu"
    checkpoint_every: int = 500
    val_every: int = 500
    val_images: int = 8
    max_images: int | None = None
    init_from: str | None = None  # fine-tune: start from these weights, fresh optimizer
    init_blocks: str = "all"  # "first" / "spread": a smaller network from some of init_from's blocks
    qat: bool = False  # fake-quantize the coupling functions as the int8 exports do (imn qat)
    masknet: str | None = None  # Mask faces from this Mask-net with random presets (paper pipeline)
    presets: str | None = None  # identity presets for ``masknet`` (default models/identities.npy)
    donors: str | None = None  # Masks v2 from the donor bank in this folder ("" = models/)
    donor_draws: int = 0  # > 0: compose this many donor Masks per face once (for a GPU), not per batch
    key_piece: int = 0  # > 0: keyed training, images scrambled in pieces this size
    key_target: str = "cover"  # which image the key scrambles: "cover" (the Mask) or "face"
    progress: bool = True

    def to_dict(self) -> dict:
        d = asdict(self)
        d["weights"], d["hiding"] = self.weights.to_dict(), self.hiding.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        d.setdefault("key_target", "face")  # checkpoints from before key_target scrambled faces
        d["weights"] = LossWeights(**d["weights"])
        d["hiding"] = HidingConfig.from_dict(d["hiding"])
        return cls(**d)


def learning_rate(step: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to ``min_lr_fraction * lr`` at ``config.steps``."""
    return cosine_lr(step, config.steps, config.lr, WARMUP_STEPS, config.min_lr_fraction)


def imn_step(net: HidingNetwork, protected: torch.Tensor, mask: torch.Tensor, config: TrainConfig,
             generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """Hide, round the masked face to 8 bits, reveal from aux; return the loss terms and outputs."""
    masked, lost = net.hide(protected, mask)
    shared = quantize_8bit(masked) if config.round_8bit else masked
    aux = sample_aux(lost, config.aux, config.aux_std, generator)
    recovered, _ = net.reveal(shared, aux)
    return {
        "embedding": embedding_loss(masked, mask, config.weights.embedding_ssim),
        "recovering": recovering_loss(recovered, protected),
        "low_frequency": low_frequency_loss(masked, mask),
        "masked": masked,
        "recovered": recovered,
    }


def _psnr(mse: float) -> float:
    return 10 * math.log10(1.0 / max(mse, 1e-12))


@torch.no_grad()
def validate(net: HidingNetwork, faces: torch.Tensor, config: TrainConfig,
             masks: torch.Tensor | None = None) -> dict[str, float]:
    """PSNR of (protected, recovered) and (Mask, masked) on whole validation faces, with the
    masked and recovered faces rounded to 8 bits as a PNG would. The Mask of face i is ``masks[i]``
    (uint8, as ``faces``), by default face i+1."""
    net.eval()
    n = faces.shape[0]
    protected = faces.float() / 255
    mask = (faces[torch.arange(1, n + 1) % n] if masks is None else masks).float() / 255
    rec_mse, masked_mse = [], []
    for i in range(n):
        masked, lost = net.hide(protected[i:i + 1], mask[i:i + 1])
        masked8 = quantize_8bit(masked)
        recovered, _ = net.reveal(masked8, sample_aux(lost, config.aux, config.aux_std))
        rec_mse.append(float(((quantize_8bit(recovered) - protected[i:i + 1]) ** 2).mean()))
        masked_mse.append(float(((masked8 - mask[i:i + 1]) ** 2).mean()))
    net.train()
    return {"val_recovered_psnr": float(np.mean([_psnr(m) for m in rec_mse])),
            "val_masked_psnr": float(np.mean([_psnr(m) for m in masked_mse]))}


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _rng_state(generator: torch.Generator) -> dict:
    return {"torch": torch.get_rng_state(), "sampler": generator.get_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def _restore_rng(state: dict, generator: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    generator.set_state(state["sampler"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _mask_source(config: TrainConfig, device: torch.device):
    """``None`` (another face is the Mask), Masks v2 from the donor bank, or Mask-net with the presets."""
    if config.masknet is not None and config.donors is not None:
        raise ValueError("choose one Mask source: donors or masknet")
    if config.donor_draws < 0 or (config.donor_draws and config.donors is None):
        raise ValueError(f"--donor-draws {config.donor_draws}: must be >= 0, and needs --donors")
    if config.donors is not None:
        from imn_export.donors.bank import read_bank
        from imn_export.weights import MODELS_DIR
        from imn_export.data import DonorMask
        import os
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return DonorMask(read_bank(Path(config.donors or MODELS_DIR)), draws=config.donor_draws,
                         workers=cores, progress=config.progress, seed=config.seed)
    if config.masknet is None:
        return None
    from imn_export.identity.presets import PRESETS_NAME, load_presets
    from imn_export.weights import MODELS_DIR, load_masknet
    from imn_export.data import MaskNetMask
    presets = load_presets(config.presets or MODELS_DIR / PRESETS_NAME)
    return MaskNetMask(load_masknet(config.masknet or None, device), torch.from_numpy(presets).to(device))


INIT_BLOCKS = ("all", "first", "spread")


def initial_weights(init: dict, config: TrainConfig) -> dict:
    """The state dict a run starts from: ``init``'s whole network (``init_blocks`` "all", same
    architecture), or, for a network with fewer coupling blocks of the same shape (a smaller,
    faster one for phones, issue #20), ``config.hiding.blocks`` of its blocks: the first ones or
    ones spread evenly from first to last. Each block is invertible on its own, so any subset is
    a valid network to fine-tune."""
    teacher = HidingConfig.from_dict(init["hiding_config"])
    if config.init_blocks not in INIT_BLOCKS:
        raise ValueError(f"init_blocks {config.init_blocks!r} is not one of {INIT_BLOCKS}")
    if config.init_blocks == "all":
        if teacher != config.hiding:
            raise ValueError(f"--init-from {config.init_from} has architecture {init['hiding_config']}, "
                             f"not {config.hiding.to_dict()}")
        return init["model"]
    if replace(teacher, blocks=config.hiding.blocks) != config.hiding or config.hiding.blocks > teacher.blocks:
        raise ValueError(f"--init-blocks {config.init_blocks} takes blocks of the same shape, no more than "
                         f"{config.init_from} has ({init['hiding_config']}), not {config.hiding.to_dict()}")
    n, total = config.hiding.blocks, teacher.blocks
    chosen = (list(range(n)) if config.init_blocks == "first"
              else [round(i * (total - 1) / max(n - 1, 1)) for i in range(n)])
    state = {}
    for new_index, old_index in enumerate(chosen):
        prefix = f"blocks.{old_index}."
        state.update({f"blocks.{new_index}." + k[len(prefix):]: v
                      for k, v in init["model"].items() if k.startswith(prefix)})
    return state


def _validation_masks(mask_source, val_faces: torch.Tensor) -> torch.Tensor | None:
    """With donor Masks, validation faces are judged under donor ``i mod K`` (the same every
    run), so the figures measure the Masks being trained for; else ``None`` (the next face)."""
    from imn_export.data import DonorMask
    from imn_sdk.masks import compose

    if not isinstance(mask_source, DonorMask):
        return None
    faces = val_faces.permute(0, 2, 3, 1).cpu().numpy()
    donors = mask_source.donors
    if faces.shape[1:3] != donors.shape[1:3]:
        raise ValueError(f"donors are {donors.shape[1]} px, validation faces {faces.shape[1]} px")
    masks = np.stack([compose(f, donors[i % len(donors)]) for i, f in enumerate(faces)])
    return torch.from_numpy(masks).permute(0, 3, 1, 2).contiguous().to(val_faces.device)


def scramble_batch(faces: torch.Tensor, piece: int, rng: np.random.Generator) -> torch.Tensor:
    """Each image ``(B, 3, h, w)`` (covers or faces) scrambled with a fresh random key
    (imn_sdk.keys): the network learns to hide with any key's scramble."""
    from imn_sdk.keys import random_scramble, scramble

    count = (faces.shape[-2] // piece) * (faces.shape[-1] // piece)
    out = []
    for face in faces.permute(0, 2, 3, 1).cpu().numpy():
        out.append(scramble(face, *random_scramble(count, rng), piece=piece))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).contiguous().to(faces.device)


def train_inn(config: TrainConfig, resume: bool = False) -> dict:
    """Train (or resume) a hiding network; writes ``last.pt`` and ``metrics.jsonl`` under ``out``.

    Returns a summary dict (steps done, wall time, last losses, validation PSNRs).
    """
    folder = RunFolder(config.out, resume)
    state = folder.state
    if state is not None:
        saved = TrainConfig.from_dict(state["config"])
        # Continue the saved run; only the budget and housekeeping may change on resume.
        config = TrainConfig(**{**asdict(saved), "weights": saved.weights, "hiding": saved.hiding,
                                "minutes": config.minutes, "device": config.device,
                                "progress": config.progress, "data": config.data,
                                "steps": config.steps if config.steps else saved.steps})

    device = torch.device(config.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    _seed_everything(config.seed)

    paths = list_images(config.data)
    train_paths, val_paths = split_train_val(paths)
    if config.max_images:
        train_paths = train_paths[: config.max_images]
    if not val_paths or len(train_paths) < 2:
        raise ValueError(f"{config.data} has too few images ({len(paths)}) for a training split")
    faces = load_faces(train_paths, progress=config.progress)
    val_faces = load_faces(val_paths[: config.val_images], progress=False).to(device)

    generator = torch.Generator(device=device)
    generator.manual_seed(config.seed)
    if config.key_piece and config.patch % config.key_piece:
        raise ValueError(f"--key-piece {config.key_piece} must divide --patch {config.patch}")
    if config.key_target not in KEY_TARGETS:
        raise ValueError(f"key_target {config.key_target!r} is not one of {KEY_TARGETS}")
    key_rng = np.random.default_rng(config.seed + 1)
    mask_source = _mask_source(config, device)
    sampler = PairSampler(faces, config.batch, config.patch, device, generator,
                          mask_source=mask_source, jitter=config.jitter)
    val_masks = _validation_masks(mask_source, val_faces)
    net = HidingNetwork(config.hiding).to(device).train()
    if config.qat:
        enable_fake_quant(net)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, betas=(0.9, 0.999), eps=1e-8)
    step, elapsed_before = 0, 0.0
    if state is None and config.init_from:
        init = load_checkpoint(config.init_from)
        net.load_state_dict(initial_weights(init, config))
    if state is not None:
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        _restore_rng(state["rng"], generator)
        step, elapsed_before = state["step"], state.get("wall_seconds", 0.0)

    def checkpoint(extra: dict | None = None) -> None:
        folder.save({
            "model": net.state_dict(), "optimizer": optimizer.state_dict(),
            "hiding_config": config.hiding.to_dict(), "config": config.to_dict(),
            "aux": {"kind": config.aux, "std": config.aux_std},
            "step": step, "wall_seconds": elapsed_before + (time.time() - start),
            "rng": _rng_state(generator), **(extra or {}),
        })

    start = time.time()
    deadline = start + config.minutes * 60 if config.minutes else None
    auto_steps = config.steps == 0
    if auto_steps and not config.minutes:
        raise ValueError("--steps 0 (auto) needs --minutes")
    total = config.steps if not auto_steps else None
    bar = tqdm(total=total, initial=step, desc="train-inn", unit="step", disable=not config.progress,
               dynamic_ncols=True)
    running: dict[str, float] = {}
    last_val: dict[str, float] = {}
    probe_start = None
    stopped_by_time = False
    bad_steps = 0
    try:
        while config.steps == 0 or step < config.steps:
            if auto_steps and step == AUTO_STEPS_PROBE:
                probe_start = time.time()
            if auto_steps and probe_start and step == 2 * AUTO_STEPS_PROBE:
                per_step = (time.time() - probe_start) / AUTO_STEPS_PROBE
                remaining = deadline - time.time()
                config.steps = step + int(remaining / per_step * 0.97)
                bar.total = config.steps
                auto_steps = False
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, config)
            protected, mask = sampler.sample()
            if config.key_piece and config.key_target == "cover":
                mask = scramble_batch(mask, config.key_piece, key_rng)
            elif config.key_piece:
                protected = scramble_batch(protected, config.key_piece, key_rng)
            terms = imn_step(net, protected, mask, config, generator)
            loss = total_loss(terms, config.weights)
            optimizer.zero_grad(set_to_none=True)
            if not torch.isfinite(loss):
                # One bad batch must not poison Adam's moments: skip it, give up if it persists.
                bad_steps += 1
                if bad_steps >= MAX_BAD_STEPS:
                    raise FloatingPointError(f"loss not finite for {bad_steps} steps at step {step}; "
                                             "lower --lr or resume from the last checkpoint")
                continue
            bad_steps = 0
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            step += 1
            if step % 10 == 0 or step == 1:
                for key in ("embedding", "recovering", "low_frequency"):
                    value = float(terms[key].detach())
                    running[key] = value if key not in running else 0.9 * running[key] + 0.1 * value
                bar.set_postfix(rec=f"{_psnr(running['recovering']):.1f}dB",
                                emb=f"{_psnr(running['embedding']):.1f}dB",
                                lr=f"{learning_rate(step, config):.1e}")
            bar.update(1)
            if step % config.val_every == 0:
                last_val = validate(net, val_faces, config, val_masks)
                folder.log({"step": step, "elapsed": round(time.time() - start, 1),
                            **{k: float(terms[k].detach()) for k in running}, **last_val})
            if step % config.checkpoint_every == 0:
                checkpoint()
            if deadline and time.time() > deadline and (config.steps == 0 or step < config.steps):
                stopped_by_time = True
                break
    finally:
        bar.close()
    last_val = validate(net, val_faces, config, val_masks)
    checkpoint(last_val)
    return {"steps": step, "target_steps": config.steps, "stopped_by_time": stopped_by_time,
            "wall_seconds": round(elapsed_before + time.time() - start, 1),
            "checkpoint": str(folder.last), **{k: float(v) for k, v in running.items()}, **last_val}
