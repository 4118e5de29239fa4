"""``imn`` evaluation commands: the hiding network, its exported bundles, identity privacy, whole
photos through the SDK, sealed and keyed attacks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from imn_export.cli.args import add_model_args, add_runtime_args, open_bundle, positive_int
from imn_export.device import resolve_device
from imn_export.nn.auxiliary import AUX_KINDS

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
    from imn_export.evaluate.privacy import bank_masks

    draw, source = bank_masks(folder or None)

    def make(face, i):
        mask, chosen = draw(face, i)
        return mask, f"donor {chosen['donor']}"
    return make, source


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


def cmd_eval_privacy(args: argparse.Namespace) -> int:
    from imn_export.evaluate.hiding import select_images
    from imn_export.evaluate.privacy import (Replacement, bank_masks, evaluate_privacy, format_privacy,
                                             masknet_masks)
    from imn_export.identity.teacher import DlibJudge
    from imn_export.io import read_rgb, write_json
    from imn_export.weights import MODELS_DIR, load_hiding_network

    device = resolve_device(args.device)
    judge = DlibJudge()
    hiding, meta = load_hiding_network(args.weights, device)
    replacements = None
    if args.masks == "donors":
        make, generator = bank_masks(args.donors, args.seed, by_identity=not args.uniform_donors)
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


def cmd_eval_photos(args) -> int:
    from imn_export.evaluate.hiding import image_grid, select_images
    from imn_export.io import write_json, write_png
    from imn_export.evaluate.photos import evaluate_photos

    bundle = open_bundle(args)
    paths = select_images(args.images, "all", args.limit)
    results = evaluate_photos(bundle, paths, args.faces_per_photo, (args.width, args.height),
                              progress=not args.no_progress, figure_rows=3 if args.figure else 0,
                              masks=args.masks)
    figure = results.pop("_figure")
    m = results["mean"]
    print(f"{results['photos']} photos of {args.width}x{args.height}, {args.faces_per_photo} face(s) "
          f"each: {results['faces_found']} of {results['faces']} faces found and protected; outside "
          f"the regions bit-exact: {results['outside_bit_exact']}")
    print(f"  recovered, whole hidden regions: {m['region']['psnr']:.2f} dB / SSIM {m['region']['ssim']:.4f}")
    print(f"  recovered, the pasted faces:     {m['face']['psnr']:.2f} dB / SSIM {m['face']['ssim']:.4f}")
    if args.json:
        write_json(args.json, {**results, "images_dir": str(args.images)})
        print(f"wrote {args.json}")
    if args.figure and figure:
        write_png(args.figure, image_grid([list(row) for row in figure], ("photo", "protected", "recovered")))
        print(f"wrote {args.figure}")
    return 0 if results["outside_bit_exact"] else 1


def cmd_bench_photo(args) -> int:
    from imn_export.evaluate.hiding import select_images
    from imn_export.io import write_json
    from imn_export.evaluate.photo_bench import format_photo_bench, run_photo_bench

    results = run_photo_bench(args.bundle, select_images(args.images, "all", 5), args.threads,
                              args.repeats, args.target, args.precision, tuple(args.modes))
    print(f"{args.target} {args.precision}, {args.threads} threads")
    print(format_photo_bench(results))
    if args.json:
        write_json(args.json, {"results": results, "threads": args.threads, "repeats": args.repeats,
                               "command": "imn " + " ".join(sys.argv[1:]),
                               "target": args.target, "precision": args.precision})
        print(f"wrote {args.json}")
    return 0


def cmd_eval_sealed(args) -> int:
    from PIL import Image

    from imn_export.evaluate.hiding import select_images
    from imn_export.io import write_json
    from imn_export.evaluate.sealed import evaluate_sealed, format_sealed

    results = evaluate_sealed(open_bundle(args), select_images(args.images, "all", args.limit),
                              progress=not args.no_progress)
    print(format_sealed(results))
    figure = results.pop("figure")
    if args.json:
        write_json(args.json, {**results, "bundle": args.bundle, "command": "imn " + " ".join(sys.argv[1:])})
        print(f"wrote {args.json}")
    if args.figure and figure is not None:
        Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(figure).save(args.figure)
        print(f"wrote {args.figure}")
    return 0


def cmd_eval_keys(args) -> int:
    from imn_export.device import resolve_device
    from imn_export.evaluate.hiding import select_images
    from imn_export.identity.presets import load_presets
    from imn_export.io import write_json
    from imn_export.evaluate.keys import evaluate_keys, format_keys, scrambles_of
    from imn_export.weights import MODELS_DIR, PAPER_WEIGHTS_NAME, load_hiding_network, load_masknet

    device = resolve_device(args.device)
    keyed, meta = load_hiding_network(args.weights, device)
    config = meta.get("config", {})
    piece = config.get("key_piece") or args.piece
    scrambles = args.scrambles or scrambles_of(meta)
    keyless, _ = load_hiding_network(args.keyless_weights or MODELS_DIR / PAPER_WEIGHTS_NAME, device)
    judge = None
    if not args.no_judge:
        from imn_export.identity.teacher import DlibJudge
        judge = DlibJudge()
    results = evaluate_keys(keyless, keyed, load_masknet(args.masknet, device),
                            load_presets(args.presets or MODELS_DIR / "identities.npy"),
                            select_images(args.images, "all", args.limit), judge, args.wrong_tries,
                            piece, device, not args.no_progress, args.figure, scrambles)
    print(format_keys(results))
    if args.json:
        write_json(args.json, {"images_dir": str(args.images), "weights": str(args.weights), **results})
        print(f"wrote {args.json}")
    return 0


def add_evaluate_commands(sub) -> None:
    """eval, verify, bench, cross-runtime, eval-identity, eval-privacy, eval-photos, eval-sealed,
    bench-photo, eval-keys."""
    p = sub.add_parser(
        "eval", help="hide, save as 8-bit PNG, reveal, and report PSNR/SSIM/RMSE/MAE",
        description="Evaluate the hiding network as users meet it: each protected face is hidden in "
        "its Mask face, the masked face is written as an 8-bit PNG and read back, then revealed. "
        "Pairing rule for a plain folder: over sorted file names, image i is protected and image "
        "i+1 (the last wraps to the first) is its Mask. Reports (protected, recovered) and "
        "(Mask, masked); RMSE and MAE on the 0-255 scale.")
    add_model_args(p)
    p.add_argument("--images", required=True, help="folder of images, all even-sized")
    p.add_argument("--split", choices=("all", "train", "val"), default="all",
                   help="use only the training (train) or held-out (val) part of a training folder")
    p.add_argument("--limit", type=positive_int, default=None, help="first N images only")
    p.add_argument("--json", default=None, help="write results here as JSON")
    p.add_argument("--figure", default=None, help="write a Fig. 4-style comparison grid (PNG)")
    p.add_argument("--figure-count", type=positive_int, default=6, help="rows in --figure")
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
    add_model_args(p)
    p.add_argument("--images", default=None, help="also use two images from this folder")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("bench", help="median latency of hide and reveal per runtime of a bundle",
                       description="Time hide and reveal at the bundle's size for torch eager fp32 "
                       "(the baseline), ONNX Runtime and LiteRT at every exported precision, in one "
                       "run; prints ratios to torch eager, GFLOPs and artifact sizes. Core ML is "
                       "timed only on macOS.")
    p.add_argument("--bundle", default="dist", help="bundle folder from imn-export (default dist)")
    p.add_argument("--weights", default=None, help="checkpoint for the torch baseline")
    p.add_argument("--threads", type=positive_int, default=2, help="threads per runtime (default 2)")
    p.add_argument("--runs", type=positive_int, default=20, help="timed runs per graph (default 20)")
    p.add_argument("--size", type=positive_int, default=None, help="artifact size (default largest)")
    p.add_argument("--json", default=None, help="write the figures here")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("cross-runtime", help="hide on one runtime, reveal on another: the matrix",
                       description="For every pair of runtimes (torch reference and each exported "
                       "target x precision that runs here), hide on the row's runtime, save the "
                       "masked face as 8 bits, reveal on the column's, and report recovered PSNR.")
    add_model_args(p)
    p.add_argument("--bundle", default="dist", help="bundle folder from imn-export (default dist)")
    p.add_argument("--images", default=None, help="faces to use (default the real-face evaluation "
                   "set beside the checkout, else photos shipped in scikit-image)")
    p.add_argument("--pairs", type=positive_int, default=4, help="image pairs (default 4)")
    p.add_argument("--size", type=positive_int, default=None, help="artifact size (default largest)")
    p.add_argument("--threads", type=positive_int, default=2)
    p.add_argument("--json", default=None, help="write the matrix here")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_cross_runtime)

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

    p = sub.add_parser("eval-privacy", help="Masks + hiding on real faces, judged by dlib",
                       description="For each aligned face: Mask (--masks donors: a donor of the bank "
                       "drawn with --seed; --masks masknet: preset i mod K), hide, save as 8-bit PNG, "
                       "reveal. dlib's recognizer, detector and landmarks report the same-person rate "
                       "first, then rank-1 re-identification among all the faces, detection, landmark "
                       "shift and recovery, with Wilson 95%% intervals. Needs the identity extra.")
    add_model_args(p)
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
    p.add_argument("--limit", type=positive_int, default=None)
    p.add_argument("--json", default=None)
    p.add_argument("--figure", default=None, help="rows of protected, Mask, shared (masked PNG), recovered")
    p.add_argument("--figure-count", type=positive_int, default=12)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_eval_privacy)

    p = sub.add_parser("eval-photos", help="protect and recover photos built from real faces",
                       description="Paste real aligned faces at native resolution into larger "
                       "scenes, protect, save as PNG, recover; report PSNR/SSIM inside the hidden "
                       "regions and check that every pixel outside them is bit-exact.")
    p.add_argument("--images", default="../shared/data/faces-real-eval",
                   help="folder of aligned face images to paste (default %(default)s)")
    p.add_argument("--limit", type=int, default=None, help="use only the first N images (default all)")
    p.add_argument("--masks", choices=("donors", "masknet"), default="donors",
                   help="Mask generator: donors (Masks v2, default) or masknet (the paper's)")
    p.add_argument("--faces-per-photo", type=int, default=1,
                   help="faces pasted into each photo (default %(default)s)")
    p.add_argument("--width", type=int, default=1024, help="photo width in pixels (default %(default)s)")
    p.add_argument("--height", type=int, default=768, help="photo height in pixels (default %(default)s)")
    p.add_argument("--json", default=None, help="write per-photo and mean results to this JSON file")
    p.add_argument("--figure", default=None, help="write a PNG grid: rows of photo, protected, recovered")
    add_runtime_args(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_eval_photos)

    p = sub.add_parser("eval-sealed", help="what an attacker with the bundle gets from sealed and keyless photos",
                       description="Protect each real face (one tile) sealed and keyless with the same "
                       "donor, run the public reveal graph on what was shared, and judge with dlib "
                       "how often each reading is the same person (Wilson 95%% intervals) and its "
                       "PSNR to the original.")
    p.add_argument("--images", default="../shared/data/faces-real-eval",
                   help="folder of face photos of the bundle's tile size (default %(default)s)")
    p.add_argument("--limit", type=int, default=None, help="use only the first N images (default all)")
    p.add_argument("--json", default=None, help="write per-face and summary results to this JSON file")
    p.add_argument("--figure", default=None, help="write a PNG grid of the first faces' readings")
    add_runtime_args(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_eval_sealed)

    p = sub.add_parser("bench-photo", help="protect/recover time per stage and peak memory on 12 MP photos",
                       description="A 4000x3000 photo with one and with five 640-px faces (made from "
                       "--images), each case in a fresh process: median seconds per stage over "
                       "--repeats runs, peak resident memory and file sizes, keyless and sealed.")
    p.add_argument("--images", default="../shared/data/faces-real-eval",
                   help="folder of face images the bench photos are made from (default %(default)s)")
    add_runtime_args(p)
    p.add_argument("--repeats", type=int, default=3, help="runs per case, median taken (default %(default)s)")
    p.add_argument("--modes", nargs="+", choices=("keyless", "sealed"), default=["keyless", "sealed"],
                   help="keyless (the hiding network) and/or sealed (encrypted originals; default both)")
    p.add_argument("--json", default=None, help="write the timings to this JSON file")
    p.set_defaults(func=cmd_bench_photo)

    p = sub.add_parser("eval-keys", help="keyed recovery on real faces: right key, wrong keys, dlib",
                       description="Mask from Mask-net, hide with the keyless and the keyed network, "
                       "8-bit PNG, reveal with the right key (sdk/spec/photo.md §7) and with "
                       "--wrong-tries random other keys per face; dlib re-identifies the protected "
                       "person from the wrong-key outputs (needs the identity extra, or --no-judge).")
    p.add_argument("--weights", required=True, help="the keyed hiding network (train-inn --key-piece)")
    p.add_argument("--keyless-weights", default=None,
                   help="default models/imn-inn-paper.pt, which the keyed weights were fine-tuned from")
    p.add_argument("--masknet", default=None)
    p.add_argument("--presets", default=None)
    p.add_argument("--images", default="../shared/data/faces-real-eval")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--wrong-tries", type=int, default=1, help="wrong keys per face")
    p.add_argument("--piece", type=int, default=32, help="used when the checkpoint does not say")
    p.add_argument("--scrambles", choices=("cover", "face"), default=None,
                   help="what the key scrambles (default: what --weights was trained on, else the cover)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--no-judge", action="store_true")
    p.add_argument("--json", default=None)
    p.add_argument("--figure", default=None)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_eval_keys)
