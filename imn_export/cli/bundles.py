"""``imn`` commands that make what a bundle ships beside the networks: identity presets, the donor bank."""

from __future__ import annotations

import argparse
from pathlib import Path

from imn_export.cli.args import positive_int

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
                            temperature=args.temperature, seed=args.seed, fill_rim=args.fill_rim)
    image, info, dropped = make_donors(args.data, out, settings, args.components,
                                       progress=not args.no_progress, balance_sex=args.balance_sex)
    print(f"wrote {image} ({image.stat().st_size / 1e6:.2f} MB) and {info}; dropped {dropped}")
    return 0


def add_bundle_commands(sub) -> None:
    """make-presets, make-donors."""
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
    p.add_argument("--count", type=positive_int, default=64)
    p.add_argument("--candidates", type=positive_int, default=600, help="faces sampled before the checks")
    p.add_argument("--components", type=positive_int, default=600, help="PCA components")
    p.add_argument("--temperature", type=float, default=0.7, help="spread of the sampled coefficients")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--balance-sex", action="store_true",
                   help="keep half the donors of each apparent sex (measured on synthetic validation "
                        "faces, not yet the shipped bank: models/imn-donors.md)")
    p.add_argument("--fill-rim", action="store_true",
                   help="spread each donor's own skin over the rim its outline fades across, after it "
                        "is judged and read by the identity encoder (no dark rim; the shipped bank)")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_make_donors)
