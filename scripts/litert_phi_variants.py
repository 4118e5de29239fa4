"""How LiteRT should run phi (the coupling function that reads the protected branch) in int8
hiding graphs: float, int8 weights alone, or dynamic-range int8.

Takes a bundle whose int8 TFLite hide/reveal keep phi float (what imn-export wrote before phi went
dynamic: commit 2e554b4), makes the two other variants with ai-edge-quantizer, and measures each
end to end (recovered PSNR from the 8-bit masked face on the exporter's check faces) and hide
latency (2 threads, median of 30 runs, the three variants interleaved). The measurement behind
``tflite_format._dynamic_int8``.

    git worktree add ../w 2e554b4
    (cd ../w && PYTHONPATH=. python -m imn_export.cli.export --target tflite --precision int8 \\
        --graphs hide,reveal --weights models/imn-inn-qat.pt --out runs/phi-float)
    python scripts/litert_phi_variants.py ../w/runs/phi-float
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np


def _variant(source: Path, out: Path, recipe: str) -> Path:
    from ai_edge_quantizer import quantizer

    from imn_export.nn.quant_scope import COUPLING_FUNCTIONS

    engine = quantizer.Quantizer(str(source))
    getattr(engine, recipe)(regex=COUPLING_FUNCTIONS.tflite_dynamic.pattern,
                            operation_name="CONV_2D", num_bits=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out.write_bytes(bytes(engine.quantize(enable_progress_report=False).quantized_model))
    return out


def main() -> None:
    from imn_export.export import tflite_format
    from imn_export.export.graphs import GRAPHS
    from imn_export.export.samples import check_images
    from imn_export.verify.parity import GraphRunners, round_trip

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path, help="bundle with phi-float {hide,reveal}-256-int8.tflite")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per variant and round")
    args = parser.parse_args()

    pairs = check_images(256, 4).pairs()
    with tempfile.TemporaryDirectory() as tmp:
        variants = {}
        for label, recipe in (("phi float", None), ("phi int8 weights only", "add_weight_only_config"),
                              ("phi dynamic-range int8", "add_dynamic_config")):
            runners = {}
            for graph in ("hide", "reveal"):
                path = args.bundle / f"{graph}-256-int8.tflite"
                if recipe:
                    path = _variant(path, Path(tmp) / f"{graph}-{recipe}.tflite", recipe)
                runners[graph] = tflite_format.load(path, GRAPHS[graph])
            variants[label] = GraphRunners(label, runners["hide"], runners["reveal"])
        rng = np.random.default_rng(0)
        sample = [rng.random((1, 3, 256, 256), dtype=np.float32) for _ in range(2)]
        times = {label: [] for label in variants}
        for _ in range(3):  # interleaved rounds: machine noise hits every variant alike
            for label, runners in variants.items():
                runners.hide(*sample)
                for _ in range(args.runs):
                    start = time.perf_counter()
                    runners.hide(*sample)
                    times[label].append(time.perf_counter() - start)
        for label, runners in variants.items():
            trip = round_trip(runners, runners, pairs)
            print(f"{label:24s} recovered {trip.recovered_psnr:6.2f} dB   hide "
                  f"{1000 * np.median(times[label]):6.1f} ms")


if __name__ == "__main__":
    main()
