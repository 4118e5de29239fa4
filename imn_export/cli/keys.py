"""``imn eval-keys``: keyed recovery on real faces (imn_export/evaluate/keys.py)."""

from __future__ import annotations

from pathlib import Path


def cmd_eval_keys(args) -> int:
    from imn_export.device import resolve_device
    from imn_export.evaluate.hiding import select_images
    from imn_export.identity.presets import load_presets
    from imn_export.io import write_json
    from imn_export.evaluate.keys import evaluate_keys, format_keys, scrambles_of
    from imn_export.weights import MODELS_DIR, load_hiding_network, load_masknet

    device = resolve_device(args.device)
    keyed, meta = load_hiding_network(args.weights, device)
    config = meta.get("config", {})
    piece = config.get("key_piece") or args.piece
    scrambles = args.scrambles or scrambles_of(meta)
    keyless, _ = load_hiding_network(args.keyless_weights, device)
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


def add_key_commands(sub) -> None:
    p = sub.add_parser("eval-keys", help="keyed recovery on real faces: right key, wrong keys, dlib",
                       description="Mask from Mask-net, hide with the keyless and the keyed network, "
                       "8-bit PNG, reveal with the right key (sdk/spec/photo.md §7) and with "
                       "--wrong-tries random other keys per face; dlib re-identifies the protected "
                       "person from the wrong-key outputs (needs the identity extra, or --no-judge).")
    p.add_argument("--weights", required=True, help="the keyed hiding network (train-inn --key-piece)")
    p.add_argument("--keyless-weights", default=None, help="default models/imn-inn-default.pt")
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
