"""``imn bench``: median latency of hide and reveal per runtime, in one run on one machine.

Timings belong here, not in tests. Torch eager fp32 is the baseline every ratio is taken to.
Core ML is timed only where Core ML runs (macOS): elsewhere its artifacts run in the MIL
evaluator, whose speed says nothing about a phone.
"""

from __future__ import annotations

import platform

import numpy as np
import torch

from imn_export.export.runtimes import bundle_runtimes, median_ms
from imn_export.verify.parity import torch_runners
from imn_export.weights import load_hiding_network


def graph_flops(net, size: int) -> dict[str, int]:
    """FLOPs of hide and reveal at ``size`` (torch's FlopCounterMode: 2 per multiply-add)."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.rand(1, 3, size, size)
    flops = {}
    for name, fn in (("hide", net.hide), ("reveal", net.reveal)):
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            fn(x, x.clone())
        flops[name] = counter.get_total_flops()
    return flops


def run_bench(bundle: str, weights: str | None = None, threads: int = 2, runs: int = 20,
              size: int | None = None) -> dict:
    torch.set_num_threads(threads)
    net, meta = load_hiding_network(weights)
    targets = None if platform.system() == "Darwin" else ("onnx", "tflite")
    manifest, opened = bundle_runtimes(bundle, size, targets, threads)
    size = next(iter(opened[0][1].values()))["size"]
    rng = np.random.default_rng(0)
    inputs = tuple(rng.random((1, 3, size, size), dtype=np.float32) for _ in range(2))
    rows = []
    reference = torch_runners(net, "cpu")
    for runners, entries in [(reference, None)] + opened:
        row = {"runtime": runners.label.replace(" (cpu)", " eager")}
        for graph in ("hide", "reveal"):
            row[f"{graph}_ms"] = median_ms(getattr(runners, graph), inputs, runs)
            row[f"{graph}_mb"] = entries[graph]["bytes"] / 2**20 if entries else None
        rows.append(row)
    base = rows[0]
    for row in rows:
        for graph in ("hide", "reveal"):
            row[f"{graph}_speedup"] = base[f"{graph}_ms"] / row[f"{graph}_ms"]
    return {"machine": f"{platform.machine()}, {platform.processor() or platform.system()}, "
                       f"{threads} threads", "size": size, "runs": runs,
            "flops": graph_flops(net, size), "rows": rows,
            "not_timed": [] if targets is None else ["coreml (runs only on macOS)"]}


def format_bench(result: dict) -> str:
    lines = [f"median of {result['runs']} runs, {result['size']}x{result['size']}, {result['machine']}; "
             f"GFLOPs hide {result['flops']['hide'] / 1e9:.2f}, reveal {result['flops']['reveal'] / 1e9:.2f}"]
    header = f"{'runtime':<16}{'hide ms':>9}{'x eager':>9}{'reveal ms':>11}{'x eager':>9}{'MB (hide+reveal)':>18}"
    lines.append(header)
    for r in result["rows"]:
        size = "-" if r["hide_mb"] is None else f"{r['hide_mb'] + r['reveal_mb']:.2f}"
        lines.append(f"{r['runtime']:<16}{r['hide_ms']:>9.1f}{r['hide_speedup']:>9.2f}"
                     f"{r['reveal_ms']:>11.1f}{r['reveal_speedup']:>9.2f}{size:>18}")
    if result["not_timed"]:
        lines.append("not timed here: " + ", ".join(result["not_timed"]))
    return "\n".join(lines)
