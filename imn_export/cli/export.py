"""``imn-export``: export the IMN graphs to ONNX, Core ML and TFLite, checked against PyTorch."""

from __future__ import annotations

import argparse
import sys

from imn_export.cli import quiet_dependencies
from imn_export.device import DEVICE_CHOICES
from imn_export.export.formats import FORMATS, PRECISIONS, supported_pairs


def build_parser() -> argparse.ArgumentParser:
    targets = ", ".join(f"{f.key} ({f.name}: {'/'.join(f.precisions)})" for f in FORMATS.values())
    p = argparse.ArgumentParser(
        prog="imn-export",
        description="Export the hide and reveal graphs of a hiding-network checkpoint (and Mask-net's "
                    "masknet graph with the identity presets, when its weights exist) to a bundle "
                    "(a folder with manifest.json, see sdk/spec/bundle.md), and check each artifact "
                    "against the fp32 PyTorch reference: output parity, invertibility, recovery from "
                    "the 8-bit masked face, latency. Thresholds: imn_export/export/thresholds.py.",
        epilog=f"targets: {targets}. Pairs: {', '.join(supported_pairs())}. Core ML predicts only on "
               "macOS; elsewhere its saved program is checked by a MIL evaluator.")
    p.add_argument("--target", default="coreml",
                   help="onnx, coreml, tflite, a comma list, or all (aliases: ios, android, litert, "
                        "mlpackage, ort); default coreml")
    p.add_argument("--precision", default="fp32",
                   help=f"{', '.join(PRECISIONS)}, a comma list, or all; default fp32. With several "
                        "targets, pairs a target lacks are skipped")
    p.add_argument("--size", type=int, default=256,
                   help="static square size of every graph tensor, even (default 256)")
    p.add_argument("--weights", default=None,
                   help="checkpoint (default: the shipped models/imn-inn-default.pt or $IMN_WEIGHTS)")
    p.add_argument("--out", default="dist", help="bundle folder (default dist/); merged into if it "
                   "holds a bundle of the same checkpoint")
    p.add_argument("--overwrite", action="store_true",
                   help="replace artifacts that already exist in --out")
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                   help="device of the PyTorch reference (auto = CUDA when present)")
    p.add_argument("--check-images", default=None,
                   help="folder of faces for the checks (default ../shared/data/faces-real-eval beside "
                        "the checkout, else photos shipped in scikit-image)")
    p.add_argument("--checks", type=int, default=4, help="number of check pairs (default 4)")
    p.add_argument("--threads", type=int, default=2, help="runtime threads for checks and latency")
    p.add_argument("--masknet", default=None,
                   help="Mask-net weights for the masknet graph (default: the shipped "
                        "models/imn-masknet.pt when present)")
    p.add_argument("--presets", default=None,
                   help="identity presets copied into the bundle as identities.npy (default "
                        "models/identities.npy)")
    p.add_argument("--no-masknet", action="store_true", help="export hide and reveal only")
    p.add_argument("--donors", default=None,
                   help="folder with the donor bank of Masks v2, donors.json (default models/)")
    p.add_argument("--graphs", default="all",
                   help="comma list of graphs to export (hide, reveal, masknet) or all (default)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--verbose", action="store_true",
                   help="also show the warnings and log lines of torch and the converters")
    return p


# Python modules each target needs, for a clear message when the export extra is missing.
_NEEDS = {"onnx": ("onnx", "onnxruntime", "onnxsim"), "coreml": ("coremltools",),
          "tflite": ("litert_torch", "ai_edge_litert")}


def _missing_modules(targets) -> list[str]:
    import importlib.util

    return [m for f in targets for m in _NEEDS[f.key] if importlib.util.find_spec(m) is None]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_dependencies(args.verbose)
    from imn_export.export.formats import plan

    try:
        pairs, _ = plan(args.target, args.precision)  # argument errors before any heavy import
        missing = _missing_modules(dict.fromkeys(f for f, _ in pairs))
        if missing:
            print(f"imn-export: error: missing {', '.join(missing)}; install the export extra: "
                  "pip install -e '.[export]'", file=sys.stderr)
            return 2
        from imn_export.export.exporter import (ExportOptions, export_bundle, format_report,
                                                int8_weights_hint)

        options = ExportOptions(targets=args.target, precisions=args.precision, size=args.size,
                                weights=args.weights, out=args.out, device=args.device,
                                overwrite=args.overwrite, check_images=args.check_images,
                                masknet=args.masknet, presets=args.presets,
                                no_masknet=args.no_masknet, donors=args.donors, graphs=args.graphs,
                                checks=args.checks, threads=args.threads, progress=not args.no_progress)
        reports, manifest = export_bundle(options, log=lambda m: print(m, file=sys.stderr))
    except (ValueError, FileExistsError, FileNotFoundError) as error:
        print(f"imn-export: error: {error}", file=sys.stderr)
        return 2
    print(format_report(reports))
    hint = int8_weights_hint(reports, args.weights)
    if hint:
        print(hint)
    print(f"wrote {manifest}")
    return 0 if all(r.status == "ok" for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
