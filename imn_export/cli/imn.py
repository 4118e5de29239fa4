"""``imn``: train, evaluate and verify the IMN hiding network."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from imn_export.cli import error_message, quiet_dependencies
from imn_export.device import DEVICE_CHOICES, resolve_device
from imn_export.cli.keys import add_key_commands
from imn_export.cli.photos import add_photo_commands, add_photo_eval_commands
from imn_export.nn.auxiliary import AUX_KINDS


def _ratio(text: str):
    from imn_export.train.losses import LossWeights
    try:
        return LossWeights.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="folder of face images, all the same size "
                   "(e.g. ../shared/data/faces); every 13th image by name is held out for validation")
    p.add_argument("--steps", type=int, default=20_000,
                   help="optimizer steps (default %(default)s); 0 = as many as fit in --minutes")
    p.add_argument("--minutes", type=float, default=None,
                   help="wall-clock budget; the run checkpoints and stops when it is spent "
                        "(continue later with --resume)")
    p.add_argument("--batch", type=_positive_int, default=8, help="batch size (default 8)")
    p.add_argument("--patch", type=_positive_int, default=64,
                   help="random square crop size in pixels, even (default 64); the network is fully "
                        "convolutional, so patches train it for whole faces")
    p.add_argument("--lr", type=float, default=2e-4, help="peak Adam learning rate (default %(default)s)")
    p.add_argument("--ratio", type=_ratio, default=None, metavar="L1:L2:L3",
                   help="loss weights embedding:recovering:low-frequency (default 1:3:1, the paper's)")
    p.add_argument("--ssim-weight", type=float, default=0.0,
                   help="add this share of (1 - SSIM) to the embedding term (default 0 = the "
                        "paper's MSE)")
    p.add_argument("--blocks", type=_positive_int, default=8, help="invertible blocks N (default 8)")
    p.add_argument("--depth", type=_positive_int, default=4, help="convs per dense block (default 4)")
    p.add_argument("--growth", type=_positive_int, default=24,
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
    p.add_argument("--checkpoint-every", type=_positive_int, default=500)
    p.add_argument("--val-every", type=_positive_int, default=500)
    p.add_argument("--max-images", type=_positive_int, default=None,
                   help="use only the first N training images (smoke tests)")
    p.add_argument("--init-from", default=None,
                   help="fine-tune: start from these weights (same architecture), new optimizer")
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
        qat=getattr(args, "qat", False), masknet=args.masknet, presets=args.presets,
        donors=getattr(args, "donors", None),
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


def _load(args: argparse.Namespace):
    from imn_export.weights import load_hiding_network
    device = resolve_device(args.device)
    net, meta = load_hiding_network(args.weights, device)
    return net, meta, device


def cmd_eval(args: argparse.Namespace) -> int:
    from imn_export.evaluate.hiding import evaluate_pairs, folder_pairs, format_table, select_images
    from imn_export.io import write_json
    net, meta, device = _load(args)
    aux = meta.get("aux", {"kind": "zeros", "std": 1.0})
    pairs = folder_pairs(select_images(args.images, args.split, args.limit))
    make_mask, mask_source = None, "image i+1 of the folder"
    if args.masknet is not None and args.donors is not None:
        raise ValueError("choose one Mask generator: --donors or --masknet")
    if args.masknet is not None:
        make_mask, mask_source = _masknet_masks(args, device)
    if args.donors is not None:
        make_mask, mask_source = _donor_masks(args.donors)
    results = evaluate_pairs(net, pairs, aux_kind=args.aux or aux["kind"], aux_std=aux["std"],
                             device=device, save_dir=args.save_masked, figure=args.figure,
                             figure_count=args.figure_count, progress=not args.no_progress,
                             make_mask=make_mask)
    results = {"weights": meta["path"], "images_dir": str(args.images), "split": args.split,
               "mask_source": mask_source, **results}
    print(format_table(results, per_image=args.per_image or results["n"] <= 12))
    if args.json:
        write_json(args.json, results)
        print(f"wrote {args.json}")
    if args.figure:
        print(f"wrote {args.figure}")
    return 0


def _donor_masks(folder: str):
    """``make_mask`` for evaluate_pairs: Masks v2 drawn as the SDKs draw them (seed 0)."""
    from imn_export.donors.bank import manifest_entry, read_bank
    from imn_export.evaluate.privacy import donor_masks
    from imn_export.weights import MODELS_DIR, load_identity_encoder

    bank = Path(folder or MODELS_DIR)
    draw = donor_masks(read_bank(bank), encoder=load_identity_encoder(), sex=manifest_entry(bank).get("sex"))

    def make(face, i):
        mask, source = draw(face, i)
        return mask, f"donor {source['donor']}"
    return make, f"Masks v2: one of the 8 donors of {bank / 'donors.json'} farthest by identity, of the face's apparent sex (seed 0)"


def _masknet_masks(args: argparse.Namespace, device):
    """``make_mask`` for evaluate_pairs: Mask-net with preset ``i mod K`` for face i."""
    from imn_export.identity.presets import PRESETS_NAME, load_presets
    from imn_export.evaluate.privacy import make_mask
    from imn_export.weights import MODELS_DIR, load_masknet

    masknet = load_masknet(args.masknet or None, device)
    presets = load_presets(args.presets or MODELS_DIR / PRESETS_NAME)
    source = f"Mask-net ({args.masknet or 'shipped'}), preset i mod {len(presets)}"
    return (lambda face, i: (make_mask(masknet, face, presets[i % len(presets)], device),
                             f"preset {i % len(presets)}")), source


def cmd_verify(args: argparse.Namespace) -> int:
    from imn_export.verify.invertibility import format_cases, verify_invertibility
    net, _, device = _load(args)
    cases = verify_invertibility(net, images=args.images, device=device)
    print(format_cases(cases))
    failed = [c for c in cases if not c.passed]
    if failed:
        print(f"FAILED: {len(failed)} of {len(cases)} round trips above tolerance", file=sys.stderr)
        return 1
    worst32 = max(max(c.recovered_error, c.mask_error) for c in cases if c.dtype == "float32")
    worst64 = max(max(c.recovered_error, c.mask_error) for c in cases if c.dtype == "float64")
    print(f"ok: {len(cases)} round trips; worst error float32 {worst32:.2e}, float64 {worst64:.2e}")
    return 0


def cmd_sweep_lambda(args: argparse.Namespace) -> int:
    from imn_export.train.sweep import run_lambda_sweep
    table = run_lambda_sweep(_train_config(args, args.out), ratios=args.ratios, out=args.out,
                             eval_images=args.eval_images)
    print(table)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from imn_export.evaluate.graph_bench import format_bench, run_bench
    from imn_export.io import write_json

    result = run_bench(args.bundle, args.weights, args.threads, args.runs, args.size)
    print(format_bench(result))
    if args.json:
        write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0


def cmd_cross_runtime(args: argparse.Namespace) -> int:
    from imn_export.export.runtimes import bundle_runtimes
    from imn_export.export.samples import check_images
    from imn_export.io import write_json
    from imn_export.weights import load_hiding_network
    from imn_export.verify.parity import cross_runtime_matrix, format_matrix, torch_runners

    net, _ = load_hiding_network(args.weights)
    _, opened = bundle_runtimes(args.bundle, args.size, threads=args.threads)
    size = next(iter(opened[0][1].values()))["size"]
    images = check_images(size, args.pairs, args.images)
    runtimes = [torch_runners(net, resolve_device(args.device))] + [r for r, _ in opened]
    matrix = cross_runtime_matrix(runtimes, images.pairs(), progress=not args.no_progress)
    print(f"recovered PSNR (dB) from the 8-bit masked face, mean over {len(images.images)} pairs "
          f"of {images.source}, {size}x{size}; rows hide, columns reveal")
    print(format_matrix(matrix))
    if args.json:
        write_json(args.json, {"size": size, "images": images.source, "matrix": matrix})
        print(f"wrote {args.json}")
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


def cmd_eval_identity(args: argparse.Namespace) -> int:
    from imn_export.io import write_json
    from imn_export.weights import IDENTITY_WEIGHTS_NAME, load_identity_encoder, shipped_or
    from imn_export.train.identity_trainer import agreement_report

    path = shipped_or(args.weights, IDENTITY_WEIGHTS_NAME)
    report = agreement_report(load_identity_encoder(path), args.data, progress=not args.no_progress)
    report = {"weights": str(path), "data": str(args.data), **report}
    print(json.dumps(report, indent=2))
    if args.json:
        write_json(args.json, report)
        print(f"wrote {args.json}")
    return 0


def cmd_train_masknet(args: argparse.Namespace) -> int:
    from imn_export.weights import IDENTITY_WEIGHTS_NAME, shipped_or
    from imn_export.train.masknet_trainer import (MaskNetLossWeights, MaskNetTrainConfig,
                                                  train_masknet)
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


def cmd_make_presets(args: argparse.Namespace) -> int:
    from imn_export.identity.presets import identity_vectors, make_presets
    from imn_export.io import read_rgb
    from imn_export.weights import MODELS_DIR, load_identity_encoder
    import numpy as np

    encoder = load_identity_encoder(args.identity_encoder)
    if args.image:
        out = Path(args.out or Path(args.image).with_suffix(".identity.npy").name)
        if out.exists() and not args.overwrite:
            raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
        np.save(out, identity_vectors(encoder, [read_rgb(args.image)]))
        print(f"wrote {out}: a (1, D) preset from {args.image} (use it with --identity {out})")
        return 0
    out_dir = Path(args.out or MODELS_DIR)
    from imn_export.identity.presets import PRESETS_NAME
    if (out_dir / PRESETS_NAME).exists() and not args.overwrite:
        raise FileExistsError(f"{out_dir / PRESETS_NAME} exists; pass --overwrite to replace it")
    npy, info = make_presets(encoder, args.data, out_dir)
    print(f"wrote {npy} and {info}")
    return 0


def cmd_make_donors(args: argparse.Namespace) -> int:
    from imn_export.donors.bank import BANK_INFO, BankSettings, make_donors
    from imn_export.weights import MODELS_DIR

    out = Path(args.out or MODELS_DIR)
    if (out / BANK_INFO).exists() and not args.overwrite:
        raise FileExistsError(f"{out / BANK_INFO} exists; pass --overwrite to replace it")
    settings = BankSettings(count=args.count, candidates=args.candidates,
                            temperature=args.temperature, seed=args.seed)
    image, info, dropped = make_donors(args.data, out, settings, args.components,
                                       progress=not args.no_progress, balance_sex=args.balance_sex)
    print(f"wrote {image} ({image.stat().st_size / 1e6:.2f} MB) and {info}; dropped {dropped}")
    return 0


def cmd_eval_privacy(args: argparse.Namespace) -> int:
    from imn_export.evaluate.hiding import select_images
    from imn_export.evaluate.privacy import (Replacement, donor_masks, evaluate_privacy,
                                             format_privacy, masknet_masks)
    from imn_export.identity.teacher import DlibJudge
    from imn_export.io import read_rgb, write_json
    from imn_export.weights import MODELS_DIR, load_hiding_network

    device = resolve_device(args.device)
    judge = DlibJudge()
    hiding, meta = load_hiding_network(args.weights, device)
    replacements = None
    if args.masks == "donors":
        from imn_export.donors.bank import manifest_entry, read_bank
        folder = Path(args.donors or MODELS_DIR)
        from imn_export.weights import load_identity_encoder
        encoder = None if args.uniform_donors else load_identity_encoder()
        bank = manifest_entry(folder)
        make = donor_masks(read_bank(folder), args.seed, encoder, sex=bank.get("sex"))
        size_mb = (folder / bank["file"]).stat().st_size / 1e6
        rule = ("any donor" if encoder is None else "one of the 8 farthest by identity"
                + (" of its apparent sex" if encoder is not None and "sex" in bank else ""))
        generator = (f"donors ({folder.name}/donors.json: {bank['count']} donors, {size_mb:.2f} MB added to a "
                     f"bundle; each face draws {rule}, seed {args.seed})")
    else:
        from imn_export.identity.presets import load_presets, preset_info
        from imn_export.weights import load_masknet
        presets_path = Path(args.presets) if args.presets else MODELS_DIR / "identities.npy"
        vectors = load_presets(presets_path)
        info = preset_info(presets_path).get("presets", [])
        if len(info) != len(vectors):
            raise ValueError(f"{presets_path}: identities.json must name the source face of each preset "
                             "(dlib judges identity transfer against it)")
        replacements = [Replacement(v, judge.read(read_rgb(Path(args.preset_faces) / e["source_image"])).descriptor, None)
                        for v, e in zip(vectors, info)]
        make = masknet_masks(load_masknet(args.masknet, device), replacements, device)
        generator = f"Mask-net ({args.masknet or 'shipped'}), preset i mod {len(vectors)}"
    aux = meta.get("aux", {"kind": "zeros", "std": 1.0})
    results = evaluate_privacy(make, hiding, select_images(args.images, "all", args.limit), judge,
                               generator, replacements, aux["kind"], aux["std"], device, args.figure,
                               args.figure_count, progress=not args.no_progress)
    print(format_privacy(results))
    if args.json:
        write_json(args.json, {"images_dir": str(args.images), "weights": meta.get("path"), **results})
        print(f"wrote {args.json}")
    if args.figure:
        print(f"wrote {args.figure}")
    return 0


def _add_run_args(p: argparse.ArgumentParser, steps: int, batch: int, lr: float) -> None:
    p.add_argument("--data", required=True, help="folder of aligned faces (e.g. ../shared/data/faces); "
                   "every 13th image by name is held out for validation")
    p.add_argument("--out", required=True, help="run folder for last.pt and metrics.jsonl")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--steps", type=_positive_int, default=steps, help="optimizer steps (default %(default)s)")
    p.add_argument("--minutes", type=float, default=None,
                   help="wall-clock budget; checkpoints and stops when spent (continue with --resume)")
    p.add_argument("--batch", type=_positive_int, default=batch, help="batch size (default %(default)s)")
    p.add_argument("--lr", type=float, default=lr, help="peak learning rate (default %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                   help="auto = CUDA when present, else CPU")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", default=None,
                   help="checkpoint or shipped weights (default models/imn-inn-default.pt)")
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                   help="auto = CUDA when present, else CPU")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imn", description="IMN reversible face privacy: train, evaluate and verify the "
        "invertible hiding network; benchmark and cross-check its exported bundles (imn-export).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("train-inn", help="train the hiding network on a folder of faces",
                       description="Train the hiding network (paper 2.4): loss = l1*embedding + "
                       "l2*recovering + l3*low-frequency, with the masked face rounded to 8 bits "
                       "(straight-through) before it is revealed.")
    _add_train_args(p)
    p.add_argument("--out", required=True, help="run folder for last.pt and metrics.jsonl")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.set_defaults(func=cmd_train_inn)

    p = sub.add_parser(
        "eval", help="hide, save as 8-bit PNG, reveal, and report PSNR/SSIM/RMSE/MAE",
        description="Evaluate the hiding network as users meet it: each protected face is hidden in "
        "its Mask face, the masked face is written as an 8-bit PNG and read back, then revealed. "
        "Pairing rule for a plain folder: over sorted file names, image i is protected and image "
        "i+1 (the last wraps to the first) is its Mask. Reports (protected, recovered) and "
        "(Mask, masked); RMSE and MAE on the 0-255 scale.")
    _add_model_args(p)
    p.add_argument("--images", required=True, help="folder of images, all even-sized")
    p.add_argument("--split", choices=("all", "train", "val"), default="all",
                   help="use only the training (train) or held-out (val) part of a training folder")
    p.add_argument("--limit", type=_positive_int, default=None, help="first N images only")
    p.add_argument("--json", default=None, help="write results here as JSON")
    p.add_argument("--figure", default=None, help="write a Fig. 4-style comparison grid (PNG)")
    p.add_argument("--figure-count", type=_positive_int, default=6, help="rows in --figure")
    p.add_argument("--save-masked", default=None, help="keep the masked PNGs in this folder")
    p.add_argument("--aux", choices=AUX_KINDS, default=None,
                   help="auxiliary input for revealing (default: what the weights were trained with)")
    p.add_argument("--per-image", action="store_true", help="print every image, not just the mean")
    p.add_argument("--masknet", nargs="?", const="", default=None, metavar="WEIGHTS",
                   help="take each Mask from Mask-net (the paper's full pipeline) instead of the next "
                        "image: protected face + preset identity i mod K (default weights "
                        "models/imn-masknet.pt)")
    p.add_argument("--donors", nargs="?", const="", default=None, metavar="FOLDER",
                   help="take each Mask from Masks v2 (the product's default): a donor of the bank "
                        "drawn per face (default bank models/donors.json)")
    p.add_argument("--presets", default=None, help="identity presets (default models/identities.npy)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("verify", help="check reveal(hide(p, m), lost) == (p, m) exactly",
                       description="Round-trip random and real inputs at several sizes with the "
                       "true lost information; max abs error must be <= 1e-4 (float32) and <= 1e-9 "
                       "(float64) on the [0, 1] scale. Exits 1 above tolerance.")
    _add_model_args(p)
    p.add_argument("--images", default=None, help="also use two images from this folder")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("sweep-lambda", help="reproduce the paper's Table 2 (loss-ratio sweep)",
                       description="Train one hiding network per loss ratio at the same budget, "
                       "evaluate each on the first --eval-images validation faces, and write "
                       "sweep.json and sweep.md (a Table 2-like table) to --out.")
    _add_train_args(p)
    p.add_argument("--out", required=True, help="folder for one run per ratio and the table")
    p.add_argument("--ratios", default="1:1:1,1:2:1,1:3:1,1:4:1",
                   help="comma-separated ratios (default the paper's four)")
    p.add_argument("--eval-images", type=_positive_int, default=20,
                   help="validation faces to evaluate each run on (default 20, as the paper)")
    p.set_defaults(func=cmd_sweep_lambda)

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

    p = sub.add_parser("bench", help="median latency of hide and reveal per runtime of a bundle",
                       description="Time hide and reveal at the bundle's size for torch eager fp32 "
                       "(the baseline), ONNX Runtime and LiteRT at every exported precision, in one "
                       "run; prints ratios to torch eager, GFLOPs and artifact sizes. Core ML is "
                       "timed only on macOS.")
    p.add_argument("--bundle", default="dist", help="bundle folder from imn-export (default dist)")
    p.add_argument("--weights", default=None, help="checkpoint for the torch baseline")
    p.add_argument("--threads", type=_positive_int, default=2, help="threads per runtime (default 2)")
    p.add_argument("--runs", type=_positive_int, default=20, help="timed runs per graph (default 20)")
    p.add_argument("--size", type=_positive_int, default=None, help="artifact size (default largest)")
    p.add_argument("--json", default=None, help="write the figures here")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("cross-runtime", help="hide on one runtime, reveal on another: the matrix",
                       description="For every pair of runtimes (torch reference and each exported "
                       "target x precision that runs here), hide on the row's runtime, save the "
                       "masked face as 8 bits, reveal on the column's, and report recovered PSNR.")
    _add_model_args(p)
    p.add_argument("--bundle", default="dist", help="bundle folder from imn-export (default dist)")
    p.add_argument("--images", default=None, help="faces to use (default the real-face evaluation "
                   "set beside the checkout, else photos shipped in scikit-image)")
    p.add_argument("--pairs", type=_positive_int, default=4, help="image pairs (default 4)")
    p.add_argument("--size", type=_positive_int, default=None, help="artifact size (default largest)")
    p.add_argument("--threads", type=_positive_int, default=2)
    p.add_argument("--json", default=None, help="write the matrix here")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_cross_runtime)

    p = sub.add_parser("train-identity", help="distil dlib's face recognizer into the identity encoder",
                       description="Train the compact identity encoder to reproduce dlib's ResNet "
                       "face descriptor (unit-normalised) on the training split: 1 - cosine plus the "
                       "batch's pairwise similarities. dlib's descriptors of every face (and its mirror "
                       "image) are cached under runs/cache/. Needs the identity extra: "
                       'pip install "imn[identity]". Ends with the student-teacher agreement on the '
                       "validation split.")
    _add_run_args(p, steps=3000, batch=64, lr=2e-3)
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
    p.add_argument("--count", type=_positive_int, default=1500)
    p.add_argument("--masknet", default=None, help="default models/imn-masknet.pt")
    p.add_argument("--identity-encoder", default=None, help="default models/imn-identity.pt")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_make_masks)

    p = sub.add_parser("eval-identity", help="identity encoder vs dlib on the validation split",
                       description="Student-teacher agreement on the validation split of --data: "
                       "mean cosine to dlib's centred descriptor, and verification accuracy on "
                       "same (face, mirror image) and different (face i, face i+1) pairs, with the "
                       "cosine threshold fitted on 1,000 training faces; dlib's own accuracy beside it.")
    p.add_argument("--data", default="../shared/data/faces")
    p.add_argument("--weights", default=None, help="default models/imn-identity.pt")
    p.add_argument("--json", default=None)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_eval_identity)

    p = sub.add_parser("train-masknet", help="train Mask-net (SimSwap-style) on a folder of faces",
                       description="Train Mask-net: encoder, Identity Injection Module (AdaIN from the "
                       "identity vector), decoder, compact enhancer. Losses: identity against the "
                       "requested identity (by the frozen identity encoder), reconstruction when the "
                       "identity is the face's own, feature matching and hinge adversarial loss from a "
                       "patch discriminator.")
    _add_run_args(p, steps=6000, batch=8, lr=2e-4)
    p.add_argument("--identity-encoder", default=None,
                   help="identity encoder checkpoint (default models/imn-identity.pt)")
    p.add_argument("--judge", default=None, help="identity encoder for the identity loss only "
                   "(e.g. one fine-tuned on Masks); Mask-net stays conditioned on --identity-encoder's "
                   "vectors, the presets' space")
    p.add_argument("--init-from", default=None, help="fine-tune from this train-masknet checkpoint")
    p.add_argument("--size", type=_positive_int, default=128,
                   help="training side in pixels (default 128 on CPU; 256 on CUDA)")
    p.add_argument("--identity-weight", type=float, default=10.0)
    p.add_argument("--reconstruction-weight", type=float, default=10.0)
    p.add_argument("--feature-matching-weight", type=float, default=10.0)
    p.add_argument("--adversarial-weight", type=float, default=1.0)
    p.add_argument("--checkpoint-every", type=_positive_int, default=250)
    p.add_argument("--max-images", type=_positive_int, default=None,
                   help="use only the first N training faces (smoke tests)")
    p.set_defaults(func=cmd_train_masknet)

    p = sub.add_parser("make-presets", help="identity presets (identities.npy) from synthetic faces",
                       description="Write identities.npy (K x D float32 unit rows) and identities.json "
                       "from two validation faces per gender x ethnicity group of --data, or, with "
                       "--image, a one-row preset from your own aligned face.")
    p.add_argument("--data", default="../shared/data/faces", help="synthetic faces with labels.csv")
    p.add_argument("--image", default=None, help="make one preset from this aligned face instead")
    p.add_argument("--identity-encoder", default=None, help="default models/imn-identity.pt")
    p.add_argument("--out", default=None, help="folder (default models/) or, with --image, a .npy file")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_make_presets)

    p = sub.add_parser("make-donors", help="the donor bank of Masks v2 from synthetic faces",
                       description="Fit a PCA appearance model on the training split of --data, "
                       "sample faces of nobody from it and keep --count of them that dlib finds as "
                       "one face, far from every training face and from each other. Writes "
                       "donors-256.png (two rows: the faces, then their outlines) and donors.json, with a "
                       "linear read of apparent sex from the identity encoder fitted on labels.csv. "
                       "Needs the identity extra.")
    p.add_argument("--data", default="../shared/data/faces", help="aligned synthetic faces with dlib.npz")
    p.add_argument("--out", default=None, help="folder (default models/)")
    p.add_argument("--count", type=_positive_int, default=64)
    p.add_argument("--candidates", type=_positive_int, default=600, help="faces sampled before the checks")
    p.add_argument("--components", type=_positive_int, default=600, help="PCA components")
    p.add_argument("--temperature", type=float, default=0.7, help="spread of the sampled coefficients")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--balance-sex", action="store_true",
                   help="keep half the donors of each apparent sex (measured on synthetic validation "
                        "faces, not yet the shipped bank: models/imn-donors.md)")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_make_donors)

    p = sub.add_parser("eval-privacy", help="Masks + hiding on real faces, judged by dlib",
                       description="For each aligned face: Mask (--masks donors: a donor of the bank "
                       "drawn with --seed; --masks masknet: preset i mod K), hide, save as 8-bit PNG, "
                       "reveal. dlib's recognizer, detector and landmarks report the same-person rate "
                       "first, then rank-1 re-identification among all the faces, detection, landmark "
                       "shift and recovery, with Wilson 95%% intervals. Needs the identity extra.")
    _add_model_args(p)
    p.add_argument("--images", default="../shared/data/faces-real-eval", help="real faces (>= 100)")
    p.add_argument("--masks", choices=("donors", "masknet"), default="donors", help="Mask generator")
    p.add_argument("--donors", default=None, help="folder with donors.json (default models/)")
    p.add_argument("--seed", type=int, default=0, help="draws each face's donor")
    p.add_argument("--uniform-donors", action="store_true",
                   help="draw donors uniformly, as a bundle without the identity graph does "
                        "(default: among the 8 farthest by the identity encoder, as the SDKs do)")
    p.add_argument("--masknet", default=None, help="default models/imn-masknet.pt")
    p.add_argument("--presets", default=None, help="default models/identities.npy")
    p.add_argument("--preset-faces", default="../shared/data/faces",
                   help="folder with the presets' source faces (dlib's view of each replacement)")
    p.add_argument("--limit", type=_positive_int, default=None)
    p.add_argument("--json", default=None)
    p.add_argument("--figure", default=None, help="rows of protected, Mask, shared (masked PNG), recovered")
    p.add_argument("--figure-count", type=_positive_int, default=12)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_eval_privacy)

    add_photo_commands(sub)
    add_photo_eval_commands(sub)
    add_key_commands(sub)
    for command in sub.choices.values():
        command.add_argument("--verbose", action="store_true",
                             help="also show the warnings and log lines of dependencies")
    return parser


def main(argv: list[str] | None = None) -> int:
    from imn_sdk.errors import IMNError

    parser = build_parser()
    args = parser.parse_args(argv)
    quiet_dependencies(args.verbose)
    try:
        return args.func(args)
    except (FileNotFoundError, FileExistsError, ValueError, TypeError, RuntimeError, IMNError) as error:
        print(f"imn {args.command}: error: {error_message(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"imn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
