"""Train Mask-net the SimSwap way (``imn train-masknet``).

Per batch, half the faces are asked to keep their own identity (reconstruction loss) and half get
another training face's identity. Losses: identity (1 - cosine between the frozen identity
encoder's vector of the Mask and the requested identity), reconstruction (L1, own identity only),
hinge adversarial loss and feature matching against a patch discriminator.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace

import torch

from imn_export.data import load_faces, split_train_val
from imn_export.io import list_images
from imn_export.nn.identity_encoder import IdentityEncoder, embed, resize_faces
from imn_export.nn.masknet import MaskNet, MaskNetConfig, PatchDiscriminator
from imn_export.train.losses import MaskNetLossWeights, discriminator_loss, generator_losses
from imn_export.train.run_folder import RunFolder, StepBudget, cosine_lr
from imn_export.weights import load_checkpoint, load_identity_encoder


@dataclass
class MaskNetTrainConfig:
    data: str
    out: str
    identity_encoder: str          # checkpoint of the (frozen) identity encoder
    judge: str | None = None       # identity encoder for the identity loss only (default the above)
    init_from: str | None = None   # fine-tune: a train-masknet checkpoint (its discriminator too)
    steps: int = 6000
    minutes: float | None = None
    batch: int = 8
    size: int = 128                # training side; 256 on CUDA
    lr: float = 2e-4
    weights: MaskNetLossWeights = field(default_factory=MaskNetLossWeights)
    masknet: MaskNetConfig = field(default_factory=MaskNetConfig)
    seed: int = 0
    device: str = "cpu"
    checkpoint_every: int = 250
    max_images: int | None = None
    progress: bool = True

    def to_dict(self) -> dict:
        d = asdict(self)
        d["weights"], d["masknet"] = self.weights.to_dict(), self.masknet.to_dict()
        return d


@torch.no_grad()
def identity_report(masknet: MaskNet, encoder: IdentityEncoder, faces: torch.Tensor,
                    vectors: torch.Tensor) -> dict[str, float]:
    """On faces ``(N, 3, S, S)`` uint8 with their vectors: cosine of each Mask to the requested
    (next face's) identity and to its own face's identity, by the student encoder."""
    masknet.eval()
    target = vectors.roll(-1, 0)
    masks = torch.cat([masknet.generate(faces[i:i + 16].float() / 255, target[i:i + 16])
                       for i in range(0, faces.shape[0], 16)])
    got = encoder(masks)
    masknet.train()
    return {"cos_to_replacement": float((got * target).sum(1).mean()),
            "cos_to_protected": float((got * vectors).sum(1).mean()),
            "transfer_rate": float(((got * target).sum(1) > (got * vectors).sum(1)).float().mean())}


def train_masknet(config: MaskNetTrainConfig, resume: bool = False) -> dict:
    # The graph resizes faces to the size it was trained at.
    config.masknet = replace(config.masknet, work_size=config.size)
    run = RunFolder(config.out, resume)
    torch.manual_seed(config.seed)
    device = torch.device(config.device)
    train_paths, val_paths = split_train_val(list_images(config.data))
    if config.max_images:
        train_paths = train_paths[: config.max_images]
    faces = resize_faces(load_faces(train_paths, progress=config.progress), config.size).to(device)
    val_faces = resize_faces(load_faces(val_paths[:64], progress=False), config.size).to(device)
    encoder = load_identity_encoder(config.identity_encoder, device)
    # The vectors Mask-net is conditioned on stay in the shipped encoder's space (the presets
    # are); a judge fine-tuned on Masks (imn make-masks) scores whether the identity moved.
    judge = load_identity_encoder(config.judge, device) if config.judge else encoder
    vectors = torch.from_numpy(embed(encoder, faces)).to(device)
    val_vectors = torch.from_numpy(embed(encoder, val_faces)).to(device)

    masknet = MaskNet(config.masknet).to(device).train()
    discriminator = PatchDiscriminator().to(device).train()
    opt_g = torch.optim.Adam(masknet.parameters(), lr=config.lr, betas=(0.0, 0.99))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.lr, betas=(0.0, 0.99))
    generator = torch.Generator().manual_seed(config.seed)
    start_step, elapsed = 0, 0.0
    if config.init_from and not run.state:
        init = load_checkpoint(config.init_from, map_location=device)
        if MaskNetConfig.from_dict(init["masknet_config"]) != config.masknet:
            raise ValueError(f"--init-from {config.init_from} has architecture "
                             f"{init['masknet_config']}, not {config.masknet.to_dict()}")
        masknet.load_state_dict({k: v.float() for k, v in init["model"].items()})
        if "discriminator" in init:
            discriminator.load_state_dict(init["discriminator"])
    if run.state:
        masknet.load_state_dict(run.state["model"])
        discriminator.load_state_dict(run.state["discriminator"])
        opt_g.load_state_dict(run.state["optimizer"])
        opt_d.load_state_dict(run.state["optimizer_d"])
        generator.set_state(run.state["rng"])
        start_step, elapsed = run.state["step"], run.state["wall_seconds"]
    started = time.time()
    w = config.weights

    def save(step: int, extra: dict | None = None) -> None:
        run.save({"model": masknet.state_dict(), "discriminator": discriminator.state_dict(),
                  "optimizer": opt_g.state_dict(), "optimizer_d": opt_d.state_dict(),
                  "masknet_config": config.masknet.to_dict(), "config": config.to_dict(),
                  "step": step, "rng": generator.get_state(),
                  "wall_seconds": elapsed + time.time() - started, **(extra or {})})

    budget = StepBudget(config.steps, start_step, config.minutes, "train-masknet", config.progress)
    running: dict[str, float] = {}
    for step in budget:
        lr = cosine_lr(step, config.steps, config.lr)
        for group in (*opt_g.param_groups, *opt_d.param_groups):
            group["lr"] = lr
        n = faces.shape[0]
        index = torch.randint(0, n, (config.batch,), generator=generator)
        x = faces[index].float() / 255
        if bool(torch.rand((), generator=generator) < 0.5):
            x = x.flip(-1)
        own = (torch.arange(config.batch) < config.batch // 2).float().to(device)
        other = (index + torch.randint(1, n, index.shape, generator=generator)) % n
        identity = torch.where(own[:, None].bool(), encoder(x), vectors[other])

        terms, masks = generator_losses(masknet, discriminator, judge, x, identity, own, generator)
        loss_g = sum(getattr(w, k) * v for k, v in terms.items())
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

        loss_d = discriminator_loss(discriminator, x, masks.detach())
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        for k, v in {**terms, "discriminator": loss_d}.items():
            v = float(v.detach())
            running[k] = v if k not in running else 0.95 * running[k] + 0.05 * v
        budget.show(id=running["identity"], rec=running["reconstruction"], d=running["discriminator"])
        if step % 250 == 0:
            run.log({"step": step, "elapsed": round(time.time() - started, 1), **running,
                     **identity_report(masknet, judge, val_faces, val_vectors)})
        if step % config.checkpoint_every == 0:
            save(step)
    report = identity_report(masknet, judge, val_faces, val_vectors)
    save(budget.step, {"val": report})
    return {"steps": budget.step, "stopped_by_time": budget.stopped_by_time,
            "checkpoint": str(run.last), **running, **report}
