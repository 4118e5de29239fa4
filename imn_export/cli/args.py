"""Argument helpers every ``imn`` command group shares."""

from __future__ import annotations

import argparse

from imn_export.device import DEVICE_CHOICES

DEFAULT_BUNDLE = "dist"


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def add_run_args(p: argparse.ArgumentParser, steps: int, batch: int, lr: float) -> None:
    p.add_argument("--data", required=True, help="folder of aligned faces (e.g. ../shared/data/faces); "
                   "every 13th image by name is held out for validation")
    p.add_argument("--out", required=True, help="run folder for last.pt and metrics.jsonl")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--steps", type=positive_int, default=steps, help="optimizer steps (default %(default)s)")
    p.add_argument("--minutes", type=float, default=None,
                   help="wall-clock budget; checkpoints and stops when spent (continue with --resume)")
    p.add_argument("--batch", type=positive_int, default=batch, help="batch size (default %(default)s)")
    p.add_argument("--lr", type=float, default=lr, help="peak learning rate (default %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                   help="auto = CUDA when present, else CPU")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", default=None,
                   help="checkpoint or shipped weights (default models/imn-inn-default.pt)")
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                   help="auto = CUDA when present, else CPU")


def open_bundle(args):
    """The SDK bundle named by --bundle, --target, --precision, --threads."""
    from imn_sdk import Bundle

    return Bundle(args.bundle, target=args.target, precision=args.precision, threads=args.threads)


def add_runtime_args(p: argparse.ArgumentParser) -> None:
    """Which bundle and artifacts run the photos, and on how many threads."""
    p.add_argument("--bundle", default=DEFAULT_BUNDLE,
                   help="bundle folder from imn-export with an ONNX target (default dist)")
    p.add_argument("--target", default="onnx", choices=("onnx", "tflite"),
                   help="which of the bundle's artifacts run the graphs (default onnx)")
    p.add_argument("--precision", default="fp32", choices=("fp32", "int8"),
                   help="artifact precision (default fp32)")
    p.add_argument("--threads", type=int, default=2, help="runtime threads (default 2)")
