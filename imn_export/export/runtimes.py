"""Open a bundle's artifacts as runners, for ``imn bench`` and the cross-runtime matrix, and time
a runner (the exporter's closing table and ``imn bench``)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from imn_export.export.bundle import read_manifest
from imn_export.export.formats import FORMATS
from imn_export.export.graphs import GRAPHS, HIDING_GRAPHS
from imn_export.verify.parity import GraphRunners


def bundle_runtimes(folder: str | Path, size: int | None = None, targets: tuple[str, ...] | None = None,
                    threads: int = 2) -> tuple[dict, list[tuple[GraphRunners, dict[str, dict]]]]:
    """``(manifest, [(runners, {graph: manifest entry})])`` for every (target, precision) of the
    bundle that has both graphs at ``size`` (default: the largest size in the bundle)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        raise FileNotFoundError(f"{folder} has no manifest.json; run imn-export --out {folder} first")
    artifacts = manifest["artifacts"]
    if not artifacts:
        raise ValueError(f"{folder}/manifest.json lists no artifacts")
    size = size or max(e["size"] for e in artifacts)
    grouped: dict[tuple[str, str], dict[str, dict]] = {}
    for entry in artifacts:
        if entry["size"] == size and (targets is None or entry["target"] in targets):
            grouped.setdefault((entry["target"], entry["precision"]), {})[entry["graph"]] = entry
    opened = []
    for (target, precision), entries in grouped.items():
        if not set(HIDING_GRAPHS) <= set(entries):
            continue
        module = FORMATS[target].load_module()
        entries = {g: entries[g] for g in HIDING_GRAPHS}
        runners = {g: module.load(folder / e["file"], GRAPHS[g], threads) for g, e in entries.items()}
        opened.append((GraphRunners(f"{target} {precision}", runners["hide"], runners["reveal"]), entries))
    if not opened:
        raise ValueError(f"{folder} has no complete hide+reveal pair at size {size}")
    return manifest, opened


def median_ms(fn, inputs, runs: int, warmup: int = 2) -> float:
    """Median wall time of ``fn(*inputs)`` in ms over ``runs`` calls, after ``warmup``."""
    for _ in range(warmup):
        fn(*inputs)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(*inputs)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)
