"""``imn`` training commands: the hiding network (and its int8 fine-tune), the identity encoder, Mask-net."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from imn_export.cli.args import add_run_args, positive_int
from imn_export.device import DEVICE_CHOICES, resolve_device
from imn_export.nn.auxiliary import AUX_KINDS

def _ratio(text: str):
    from imn_export.train.losses import LossWeights
    try:
        return LossWeights.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="folder of face images, all the same size "
                   "(e.g. ../shared/data/faces); every 13th image by name is held out for validation")
    p.add_argument("--steps", type=int, default=20_000,
                   help="optimizer steps (default %(default)s); 0 = as many as fit in --minutes")
    p.add_argument("--minutes", type=float, default=None,
                   help="wall-clock budget; the run checkpoints and stops when it is spent "
                        "(continue later with --resume)")
    p.add_argument("--batch", type=positive_int, default=8, help="batch size (default 8)")
    p.add_argument("--patch", type=positive_int, default=64,
                   help="random square crop size in pixels, even (default 64); the network is fully "
                        "convolutional, so patches train it for whole faces")
    p.add_argument("--lr", type=float, default=2e-4, help="peak Adam learning rate (default %(default)s)")
    p.add_argument("--ratio", type=_ratio, default=None, metavar="L1:L2:L3",
                   help="loss weights embedding:recovering:low-frequency (default 1:3:1, the paper's)")
    p.add_argument("--ssim-weight", type=float, default=0.0,
                   help="add this share of (1 - SSIM) to the embedding term (default 0 = the "
                        "paper's MSE)")
    p.add_argument("--blocks", type=positive_int, default=8, help="invertible blocks N (default 8)")
    p.add_argument("--depth", type=positive_int, default=4, help="convs per dense block (default 4)")
    p.add_argument("--growth", type=positive_int, default=24,
                   help="channels added by each dense conv (default 24)")
    p.add_argument("--aux", choices=AUX_KINDS, default="zeros",
                   help="distribution of the auxiliary input n (default zeros; see README)")
    p.add_argument("--aux-std", type=float, default=1.0, help="std of gaussian aux (default 1)")
    p.add_argument("--no-round", action="store_true",
                   help="do not round the masked face to 8 bits during training")
    p.add_argument("--no-jitter", action="store_true",
                   help="no random contrast/brightness (which adds the saturated regions real "
                        "photos have and the synthetic faces lack)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                   help="auto = CUDA when present, else CPU")
    p.add_argument("--checkpoint-every", type=positive_int, default=500)
    p.add_argument("--val-every", type=positive_int, default=500)
    p.add_argument("--max-images", type=positive_int, default=None,
                   help="use only the first N training images (smoke tests)")
    p.add_argument("--init-from", default=None,
                   help="fine-tune: start from these weights (same architecture), new optimizer")
    p.add_argument("--init-blocks", default="all", choices=["all", "first", "spread"],
                   help="with --init-from and fewer --blocks: start a smaller network from the first "
                        "of its coupling blocks or from ones spread evenly (issue #20)")
    p.add_argument("--key-piece", type=int, default=0,
                   help="keyed training (issue #6): scramble each protected face in pieces of "
                        "this many pixels with a fresh random key per sample (0 = keyless)")
    p.add_argument("--key-target", choices=("cover", "face"), default="cover",
                   help="what the key scrambles: the cover (Mask) the face is hidden in, which "
                        "keeps the hidden face a plain image (default), or the face itself")
    p.add_argument("--masknet", nargs="?", const="", default=None, metavar="WEIGHTS",
                   help="Mask faces from Mask-net with random identity presets (the paper's "
                        "pipeline) instead of other faces; default weights models/imn-masknet.pt")
    p.add_argument("--presets", default=None, help="identity presets for --masknet")
    p.add_argument("--donors", nargs="?", const="", default=None, metavar="FOLDER",
                   help="train on Masks v2 (the product's default Masks) from the donor bank "
                        "(default models/donors.json)")
    p.add_argument("--donor-draws", type=int, default=0, metavar="N",
                   help="with --donors: compose N Masks per face once, on all CPU cores, instead of "
                        "each batch's on one (a GPU run would wait for them)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _train_config(args: argparse.Namespace, out: str):
    from imn_export.nn.hiding import HidingConfig
    from imn_export.train.inn_trainer import TrainConfig
    from imn_export.train.losses import LossWeights
    return TrainConfig(
        data=args.data, out=out, steps=args.steps, minutes=args.minutes, batch=args.batch,
        patch=args.patch, lr=args.lr,
        weights=(args.ratio or LossWeights()).with_ssim(args.ssim_weight),
        hiding=HidingConfig(blocks=args.blocks, depth=args.depth, growth=args.growth),
        aux=args.aux, aux_std=args.aux_std, round_8bit=not args.no_round,
        jitter=not args.no_jitter, seed=args.seed,
        device=str(resolve_device(args.device)), checkpoint_every=args.checkpoint_every,
        val_every=args.val_every, max_images=args.max_images, init_from=args.init_from,
        init_blocks=args.init_blocks,
        qat=getattr(args, "qat", False), masknet=args.masknet, presets=args.presets,
        donors=getattr(args, "donors", None), donor_draws=getattr(args, "donor_draws", 0),
        key_piece=getattr(args, "key_piece", 0), key_target=getattr(args, "key_target", "cover"),
        progress=not args.no_progress)


def cmd_train_inn(args: argparse.Namespace) -> int:
    from imn_export.train.inn_trainer import train_inn
    summary = train_inn(_train_config(args, args.out), resume=args.resume)
    print(json.dumps(summary, indent=2))
    return 0


def cmd_qat(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from imn_export.nn.hiding import HidingConfig
    from imn_export.weights import default_weights_path, load_checkpoint
    from imn_export.train.inn_trainer import train_inn

    args.qat = True
    if not args.resume:
        args.init_from = args.init_from or str(default_weights_path())
    config = _train_config(args, args.out)
    if config.init_from:  # the architecture is the checkpoint's, whatever the flags say
        config = replace(config, hiding=HidingConfig.from_dict(
            load_checkpoint(config.init_from)["hiding_config"]))
    summary = train_inn(config, resume=args.resume)
    print(json.dumps(summary, indent=2))
    print(f"export it: imn-export --precision int8 --weights {Path(args.out) / 'last.pt'}")
    return 0


def cmd_sweep_lambda(args: argparse.Namespace) -> int:
    from imn_export.train.sweep import run_lambda_sweep
    table = run_lambda_sweep(_train_config(args, args.out), ratios=args.ratios, out=args.out,
                             eval_images=args.eval_images)
    print(table)
    return 0


def cmd_train_identity(args: argparse.Namespace) -> int:
    from imn_export.train.identity_trainer import IdentityTrainConfig, train_identity_encoder
    config = IdentityTrainConfig(data=args.data, out=args.out, steps=args.steps,
                                 minutes=args.minutes, batch=args.batch, lr=args.lr,
                                 seed=args.seed, device=str(resolve_device(args.device)),
                                 init_from=args.init_from, mask_samples=args.mask_samples,
                                 progress=not args.no_progress)
    summary = train_identity_encoder(config, resume=args.resume)
    print(json.dumps(summary, indent=2))
    return 0


def cmd_make_masks(args: argparse.Namespace) -> int:
    from imn_export.identity.mask_samples import write_mask_samples
    from imn_export.weights import load_identity_encoder, load_masknet

    paths = write_mask_samples(load_masknet(args.masknet), load_identity_encoder(args.identity_encoder),
                               args.data, args.out, args.count, args.seed,
                               progress=not args.no_progress)
    print(f"{len(paths)} Mask faces in {args.out}; label them with dlib and fine-tune the encoder: "
          f"imn train-identity --data {args.data} --mask-samples {args.out} "
          "--init-from models/imn-identity.pt --out RUN")
    return 0


def cmd_train_masknet(args: argparse.Namespace) -> int:
    from imn_export.weights import IDENTITY_WEIGHTS_NAME, shipped_or
    from imn_export.train.losses import MaskNetLossWeights
    from imn_export.train.masknet_trainer import MaskNetTrainConfig, train_masknet
    config = MaskNetTrainConfig(
        data=args.data, out=args.out,
        identity_encoder=str(shipped_or(args.identity_encoder, IDENTITY_WEIGHTS_NAME)),
        judge=args.judge, init_from=args.init_from, steps=args.steps,
        minutes=args.minutes, batch=args.batch, size=args.size, lr=args.lr,
        weights=MaskNetLossWeights(args.identity_weight, args.reconstruction_weight,
                                   args.feature_matching_weight, args.adversarial_weight),
        seed=args.seed, device=str(resolve_device(args.device)), max_images=args.max_images,
        checkpoint_every=args.checkpoint_every, progress=not args.no_progress)
    summary = train_masknet(config, resume=args.resume)
    print(json.dumps(summary, indent=2))
    return 0


def add_train_commands(sub) -> None:
    """train-inn, qat, sweep-lambda, train-identity, make-masks, train-masknet."""
    p = sub.add_parser("train-inn", help="train the hiding network on a folder of faces",
                       description="Train the hiding network (paper 2.4): loss = l1*embedding + "
                       "l2*recovering + l3*low-frequency, with the masked face rounded to 8 bits "
                       "(straight-through) before it is revealed.")
    _add_train_args(p)
    p.add_argument("--out", required=True, help="run folder for last.pt and metrics.jsonl")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.set_defaults(func=cmd_train_inn)

    p = sub.add_parser("qat", help="quantization-aware fine-tuning for the int8 exports",
                       description="Fine-tune a checkpoint (--init-from, default the shipped "
                       "weights) with the coupling functions fake-quantized as the int8 exports "
                       "compute them (int8 per-channel weights, 8-bit inputs), under the same "
                       "losses and the 8-bit rounding of the masked face. The run's last.pt is an "
                       "ordinary float checkpoint: export it with imn-export --precision int8 "
                       "--weights RUN/last.pt.")
    _add_train_args(p)
    p.set_defaults(steps=2000, lr=3e-5)
    p.add_argument("--out", required=True, help="run folder for last.pt and metrics.jsonl")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.set_defaults(func=cmd_qat)

    p = sub.add_parser("sweep-lambda", help="reproduce the paper's Table 2 (loss-ratio sweep)",
                       description="Train one hiding network per loss ratio at the same budget, "
                       "evaluate each on the first --eval-images validation faces, and write "
                       "sweep.json and sweep.md (a Table 2-like table) to --out.")
    _add_train_args(p)
    p.add_argument("--out", required=True, help="folder for one run per ratio and the table")
    p.add_argument("--ratios", default="1:1:1,1:2:1,1:3:1,1:4:1",
                   help="comma-separated ratios (default the paper's four)")
    p.add_argument("--eval-images", type=positive_int, default=20,
                   help="validation faces to evaluate each run on (default 20, as the paper)")
    p.set_defaults(func=cmd_sweep_lambda)

    p = sub.add_parser("train-identity", help="distil dlib's face recognizer into the identity encoder",
                       description="Train the compact identity encoder to reproduce dlib's ResNet "
                       "face descriptor (unit-normalised) on the training split: 1 - cosine plus the "
                       "batch's pairwise similarities. dlib's descriptors of every face (and its mirror "
                       "image) are cached under runs/cache/. Needs the identity extra: "
                       'pip install "imn[identity]". Ends with the student-teacher agreement on the '
                       "validation split.")
    add_run_args(p, steps=3000, batch=64, lr=2e-3)
    p.add_argument("--init-from", default=None, help="fine-tune these encoder weights (same architecture)")
    p.add_argument("--mask-samples", default=None,
                   help="folder of Mask faces from imn make-masks, labelled by dlib like --data; "
                   "half of each batch comes from it")
    p.set_defaults(func=cmd_train_identity)

    p = sub.add_parser("make-masks", help="Mask faces of training faces, for the identity encoder to learn",
                       description="Write Mask-net's Masks of --count training-split faces of --data "
                       "(each with another training face's identity) as PNGs in --out. The distilled "
                       "encoder reads Masks worse than faces; labelled by dlib they teach it "
                       "(imn train-identity --mask-samples). Existing files are kept (resumable).")
    p.add_argument("--data", default="../shared/data/faces")
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=positive_int, default=1500)
    p.add_argument("--masknet", default=None, help="default models/imn-masknet.pt")
    p.add_argument("--identity-encoder", default=None, help="default models/imn-identity.pt")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_make_masks)

    p = sub.add_parser("train-masknet", help="train Mask-net (SimSwap-style) on a folder of faces",
                       description="Train Mask-net: encoder, Identity Injection Module (AdaIN from the "
                       "identity vector), decoder, compact enhancer. Losses: identity against the "
                       "requested identity (by the frozen identity encoder), reconstruction when the "
                       "identity is the face's own, feature matching and hinge adversarial loss from a "
                       "patch discriminator.")
    add_run_args(p, steps=6000, batch=8, lr=2e-4)
    p.add_argument("--identity-encoder", default=None,
                   help="identity encoder checkpoint (default models/imn-identity.pt)")
    p.add_argument("--judge", default=None, help="identity encoder for the identity loss only "
                   "(e.g. one fine-tuned on Masks); Mask-net stays conditioned on --identity-encoder's "
                   "vectors, the presets' space")
    p.add_argument("--init-from", default=None, help="fine-tune from this train-masknet checkpoint")
    p.add_argument("--size", type=positive_int, default=128,
                   help="training side in pixels (default 128 on CPU; 256 on CUDA)")
    p.add_argument("--identity-weight", type=float, default=10.0)
    p.add_argument("--reconstruction-weight", type=float, default=10.0)
    p.add_argument("--feature-matching-weight", type=float, default=10.0)
    p.add_argument("--adversarial-weight", type=float, default=1.0)
    p.add_argument("--checkpoint-every", type=positive_int, default=250)
    p.add_argument("--max-images", type=positive_int, default=None,
                   help="use only the first N training faces (smoke tests)")
    p.set_defaults(func=cmd_train_masknet)
