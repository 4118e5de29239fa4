"""``imn protect`` and ``imn recover``: the reference SDK (sdk/python/imn_sdk) on whole photos or
folders of them, with a progress bar for folders. Imports no torch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imn_export.cli import error_message
from imn_export.cli.args import add_runtime_args, open_bundle

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".heic"}


def _inputs(path: Path) -> tuple[list[Path], bool]:
    if path.is_dir():
        photos = sorted(p for p in path.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        if not photos:
            raise FileNotFoundError(f"{path} holds no photos ({', '.join(sorted(PHOTO_SUFFIXES))})")
        return photos, True
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    return [path], False


def _output(source: Path, out: str | None, is_batch: bool, suffix: str, default_dir: str) -> Path:
    name = f"{source.stem.removesuffix('.imn')}{suffix}"
    if is_batch:
        folder = Path(out) if out else source.parent.parent / f"{source.parent.name}-{default_dir}"
        return folder / name
    return Path(out) if out else source.with_name(name)


def _run(args, work, suffix: str, default_dir: str, needs_bundle: bool = True) -> int:
    """``work(source, target, bundle) -> message`` for each input photo, ``bundle()`` loading the
    bundle on first use (sealed photos recover without one); returns the exit code and how many
    photos were done."""
    import functools

    from tqdm.auto import tqdm

    from imn_sdk import IMNError
    from imn_sdk.photo_io import check_writable

    photos, is_batch = _inputs(Path(args.input))
    bundle = functools.cache(lambda: open_bundle(args))
    if needs_bundle:
        bundle()  # a missing bundle is one error, before any photo
    failed = 0
    bar = tqdm(photos, desc=args.command, unit="photo", disable=not is_batch or args.no_progress)
    say = bar.write if is_batch else print
    for source in bar:
        target = _output(source, args.out, is_batch, suffix, default_dir)
        try:
            if target.resolve() == source.resolve() and not args.overwrite:
                raise ValueError("refusing to write over the input; choose --out or pass --overwrite")
            check_writable(target, args.overwrite)  # before the work, not after it
            message = work(source, target, bundle)
        except (IMNError, FileNotFoundError, ValueError) as error:
            failed += 1
            say(f"{source}: {error_message(error)}", file=sys.stderr)
            continue
        say(f"{source} -> {target}: {message}")
    if is_batch:
        print(f"{len(photos) - failed} of {len(photos)} photos done", file=sys.stderr)
    return (1 if failed else 0), len(photos) - failed


KEYLESS_MEANS = ("keyless (the paper's method): the original faces are hidden in the masked "
                 "pixels, and anyone with an IMN bundle, which ships inside every app, can recover "
                 "them. It keeps faces from people, not from anyone who runs IMN.")


def _secret(args, confirm: bool = False):
    """The key file or passphrase given, or None. ``confirm``: ask a typed passphrase twice (a
    typo would seal photos nobody can open)."""
    import getpass
    import os

    from imn_sdk import Secret, read_key_file

    if args.key_file and args.passphrase:
        raise ValueError("give --key-file or --passphrase, not both")
    if args.key_file:
        return Secret(key=read_key_file(args.key_file))
    if args.passphrase:
        # Never on the command line, where other users and the shell history see it.
        phrase = os.environ.get("IMN_PASSPHRASE")
        if not phrase:
            if not sys.stdin.isatty():
                raise ValueError("--passphrase needs a terminal to ask for it, or the passphrase "
                                 "in $IMN_PASSPHRASE")
            phrase = getpass.getpass("passphrase: ")
            if confirm and getpass.getpass("passphrase again: ") != phrase:
                raise ValueError("the two passphrases differ; nothing was written")
        return Secret(passphrase=phrase)
    return None


def cmd_protect(args) -> int:
    import numpy as np

    from imn_sdk import protect

    identity = args.identity
    if identity is not None:
        if args.masks != "masknet":
            raise ValueError("--identity chooses a Mask-net preset; add --masks masknet (or use --donor)")
        identity = int(identity) if identity.isdigit() else np.load(identity)
    if args.donor is not None and args.masks != "donors":
        raise ValueError("--donor chooses a donor of Masks v2 (--masks donors)")
    if args.keyless and (args.key_file or args.passphrase):
        raise ValueError("--keyless and a key are two different modes: choose one")
    if not (args.keyless or args.key_file or args.passphrase):
        raise ValueError("choose how the faces can be recovered: --key-file KEY or --passphrase "
                         "(sealed: only you can), or --keyless. " + KEYLESS_MEANS)
    if args.keyless and args.seal_quality != "lossless":
        raise ValueError("--seal-quality applies to sealed photos (--key-file or --passphrase)")
    secret = _secret(args, confirm=True)
    if secret is not None and secret.passphrase is not None:
        from imn_sdk.seal import check_passphrase
        check_passphrase(secret.passphrase)

    def work(source: Path, target: Path, bundle) -> str:
        result = protect(source, bundle(), identity=identity, secret=secret, masks=args.masks,
                         donor=args.donor, keyless=args.keyless, seal_quality=args.seal_quality)
        result.save(target, overwrite=args.overwrite)
        notes = result.notes + result.skipped
        how = (f"sealed ({len(result.sealed) / 1e6:.2f} MB encrypted)" if result.is_sealed else
               f"{sum(r['width'] * r['height'] for r in result.record['regions']) // bundle().size ** 2} "
               "tile(s) hidden, keyless")
        return f"{len(result.faces)} face(s) masked, {how}" + (f" ({'; '.join(notes)})" if notes else "")
    code, done = _run(args, work, ".imn.png", "protected")
    if args.keyless and done:
        print(KEYLESS_MEANS, file=sys.stderr)
    return code


def _shipped_hint(record: dict, bundle_checkpoint: str) -> str:
    """When the photo was hidden by another checkpoint that ships in ``models/`` (an earlier
    default), the command that exports its bundle, else "". Loads torch, so only on this error
    path."""
    from imn_sdk.bundle import file_sha256
    from imn_export.weights import MODELS_DIR

    hid = record.get("bundle", {})
    wanted = hid.get("checkpoint_sha256")
    if not wanted or wanted == bundle_checkpoint:
        return ""
    for weights in sorted(MODELS_DIR.glob("imn-inn-*.pt")):
        if file_sha256(weights) == wanted:
            size = f" --size {hid['tile']}" if hid.get("tile") not in (None, 256) else ""
            out = f"dist-{weights.stem}"
            return (f". It was hidden by {weights.relative_to(MODELS_DIR.parent)}: "
                    f"imn-export --target onnx --weights {weights}{size} --out {out}, "
                    f"then imn recover PHOTO --bundle {out}")
    return ""


def cmd_recover(args) -> int:
    from imn_sdk import BundleMismatch, recover
    from imn_sdk.metadata import SEALED_FORMAT_VERSION, parse_record
    from imn_sdk.photo_io import read_photo

    secret = _secret(args)

    def work(source: Path, target: Path, bundle) -> str:
        photo = read_photo(source)
        try:
            record = parse_record(photo.text)
        except Exception:  # recover gives the reason in full
            record = {}
        sealed = record.get("format") == SEALED_FORMAT_VERSION
        try:
            result = recover(photo, None if sealed else bundle(), force=args.force, secret=secret)
        except BundleMismatch as error:
            hint = _shipped_hint(record, bundle().describe()["checkpoint_sha256"])
            raise BundleMismatch(f"{error}{hint}") from error
        result.save(target, overwrite=args.overwrite)
        return (f"{len(result.record['regions'])} region(s) recovered"
                + (f" ({'; '.join(result.notes)})" if result.notes else ""))
    return _run(args, work, ".recovered.png", "recovered", needs_bundle=False)[0]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default=None, help="output file (or folder, for a folder input)")
    add_runtime_args(p)
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--key-file", default=None,
                   help="sealed mode: the 256-bit key from imn keygen; the faces are encrypted "
                        "(AES-256-GCM) and only this key recovers them")
    p.add_argument("--passphrase", action="store_true",
                   help="sealed mode with a passphrase (12+ characters), read from $IMN_PASSPHRASE "
                        "or the terminal; stretched with Argon2id (64 MiB), salted per photo")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_photo_commands(sub) -> None:
    p = sub.add_parser("protect", help="mask every face of a photo (or a folder) and hide the originals",
                       description="Detect faces, put a Mask face on each (Masks v2: a face of "
                       "nobody from the bundle's donor bank, matched to the face's colour and light; "
                       "or the paper's Mask-net with --masks masknet), then keep the original face "
                       "regions in one of two ways, chosen explicitly: sealed (--key-file or "
                       "--passphrase: encrypted into the PNG, only the key recovers them) or "
                       "--keyless (hidden in the pixels by the paper's network: anyone with an IMN "
                       "bundle recovers them). Writes an 8-bit PNG with the imn metadata chunk; "
                       "pixels outside the face regions stay bit-identical. Writes PHOTO.imn.png "
                       "beside the input unless --out.")
    p.add_argument("input", help="a photo or a folder of photos")
    p.add_argument("--masks", choices=("donors", "masknet"), default="donors",
                   help="Mask generator: donors (Masks v2, default) or masknet (the paper's Mask-net)")
    p.add_argument("--donor", type=int, default=None,
                   help="donor index for every face (default: a donor drawn at random per face)")
    p.add_argument("--keyless", action="store_true",
                   help="the paper's method without a key: anyone with an IMN bundle can recover "
                        "the faces (required when no --key-file or --passphrase is given)")
    p.add_argument("--seal-quality", choices=("lossless", "compact"), default="lossless",
                   help="sealed photos: lossless (bit-exact, default) or compact (every pixel "
                        "within one level, >= 48 dB, about a quarter smaller)")
    p.add_argument("--identity", default=None,
                   help="with --masks masknet: preset index into the bundle's identities.npy, or a "
                        ".npy identity vector (imn make-presets --image FACE --out me.npy); "
                        "default: face i gets preset i")
    _common(p)
    p.set_defaults(func=cmd_protect)

    p = sub.add_parser("recover", help="put the Mask off: recover the original faces of a protected PNG",
                       description="Read the imn metadata, check the masked pixels against their "
                       "digest, then decrypt the faces with the key (sealed photos; no bundle "
                       "needed) or check the bundle and reveal every tile (keyless photos). Writes NAME.recovered.png unless --out.")
    p.add_argument("input", help="a protected PNG or a folder of them")
    p.add_argument("--force", action="store_true",
                   help="try even though the pixels changed after protection (results degrade)")
    _common(p)
    p.set_defaults(func=cmd_recover)

