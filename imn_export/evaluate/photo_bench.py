"""``imn bench-photo``: protect and recover a 12 MP photo with one and with five faces, split by
stage, with peak memory and file sizes, keyless (the hiding network) or sealed (encrypted
originals: no network in recover). Each case runs in a fresh process so its peak resident memory is its
own, next to the resident memory right after the bundle is loaded. Where Linux allows, the peak
is reset after the benchmark has built its test photo, so the figure is the SDK's alone."""

from __future__ import annotations

import multiprocessing
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

PHOTO_SIZE = (4000, 3000)  # 12 MP
FACE_SIDE = 640            # a face as a phone camera takes it at arm's length


def process_memory_mb(field: str) -> float | None:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak since start or the last :func:`_reset_peak`)
    of this process in MB, from /proc/self/status; None where there is none (not Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024  # KiB
    except OSError:
        pass
    return None


def _rss_mb() -> float:
    """Peak resident memory of this process, MB."""
    peak = process_memory_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> bool:
    """Reset the peak (Linux >= 4.0: writing 5 to clear_refs resets VmHWM); False where it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _time_graphs(graphs: dict) -> dict[str, list[float]]:
    """Wrap each of ``graphs`` (name -> runner) in place with a timer; returns the seconds of
    every call by name, so the detector's stages (pnet over the pyramid, rnet, onet) show."""
    spent: dict[str, list[float]] = {name: [] for name in graphs}
    for name, run in list(graphs.items()):
        def timed(*args, _run=run, _name=name):
            start = time.perf_counter()
            out = _run(*args)
            spent[_name].append(time.perf_counter() - start)
            return out
        graphs[name] = timed
    return spent


def codec_floor(source: Path, scratch: Path) -> dict[str, float]:
    """The lower bound of a protect or recover of this photo: decoding it and encoding it again
    with the SDK's own codecs (photo_io), nothing else. ``source``: the photo protect reads;
    ``protected``: the same for the masked PNG recover reads (``scratch.with_name('masked.png')``)."""
    from imn_sdk.photo_io import read_photo, write_png

    out = {}
    for name, path in (("source", source), ("protected", scratch.with_name("masked.png"))):
        start = time.perf_counter()
        photo = read_photo(path)
        write_png(scratch, photo.rgb, photo.alpha, {}, overwrite=True)
        out[name] = time.perf_counter() - start
    return out


def _case(args) -> dict:
    bundle_dir, face_paths, threads, repeats, seed, target, precision, mode = args
    from imn_export.evaluate.photos import background, build_scene
    from imn_sdk import Bundle, Secret, generate_key, protect, recover
    from imn_sdk.tiles import tile_layout

    secret = Secret(key=generate_key()) if mode == "sealed" else None

    bundle = Bundle(bundle_dir, target=target, precision=precision, threads=threads)
    detector_s = _time_graphs(bundle.detector)
    loaded = _rss_mb()
    faces = [np.asarray(Image.open(p).convert("RGB").resize((FACE_SIDE, FACE_SIDE), Image.BICUBIC))
             for p in face_paths]
    scene, _ = build_scene(faces, background(seed), PHOTO_SIZE, np.random.default_rng(seed))
    protect_runs, recover_runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "photo.png"
        Image.fromarray(scene).save(source, compress_level=1)
        del scene
        peak_reset = _reset_peak()
        before = process_memory_mb("VmRSS")  # the SDK's own peak is the rise above this
        for i in range(repeats):
            result = protect(source, bundle, keyless=secret is None, secret=secret)
            result.save(Path(tmp) / "masked.png", overwrite=True)
            protect_runs.append(dict(result.seconds))
            back = recover(Path(tmp) / "masked.png", bundle if secret is None else None, secret=secret)
            back.save(Path(tmp) / "recovered.png", overwrite=True)
            recover_runs.append(dict(back.seconds))
        floors = [codec_floor(source, Path(tmp) / "floor.png") for _ in range(repeats)]
        sizes = {"source_png_mb": source.stat().st_size / 1e6,
                 "protected_png_mb": (Path(tmp) / "masked.png").stat().st_size / 1e6,
                 "sealed_mb": len(result.sealed) / 1e6 if result.is_sealed else 0.0,
                 "regions_raw_mb": sum(3 * x["width"] * x["height"] for x in result.record["regions"]) / 1e6}
    median = lambda runs: {k: statistics.median(r[k] for r in runs) for k in runs[0]}  # noqa: E731
    p, r = median(protect_runs), median(recover_runs)
    # Tiles the network ran on (keyless: the record's layout; sealed regions run none).
    tiles = 0 if result.is_sealed else sum(
        len(tile_layout((x["x"], x["y"], x["x"] + x["width"], x["y"] + x["height"]), bundle.size,
                        result.record.get("margin", 0))) for x in result.record["regions"])
    floor = {k: statistics.median(f[k] for f in floors) for k in floors[0]}
    detector = {name: sum(times) / repeats for name, times in detector_s.items()}  # per protect
    return {"mode": mode, "faces": len(face_paths), "found": len(result.faces), "tiles": tiles, **sizes,
            "codec_floor_s": floor, "detector_graphs_s": detector, "protect_floor_ratio": sum(p.values()) / floor["source"],
            "recover_floor_ratio": sum(r.values()) / floor["protected"],
            "protect_s": p, "protect_total_s": sum(p.values()),
            "recover_s": r, "recover_total_s": sum(r.values()),
            "rss_after_load_mb": loaded, "rss_before_protect_mb": before, "peak_rss_mb": _rss_mb(),
            "peak_covers": "protect and recover only" if peak_reset else "the whole case"}


MODES = ("keyless", "sealed")


def run_photo_bench(bundle_dir: str, face_paths: list[Path], threads: int = 2, repeats: int = 3,
                    target: str = "onnx", precision: str = "fp32", modes: tuple[str, ...] = MODES) -> list[dict]:
    context = multiprocessing.get_context("spawn")
    results = []
    for mode in modes:
        for count in (1, 5):
            with context.Pool(1) as pool:
                results.append(pool.apply(_case, ((str(bundle_dir), [str(p) for p in face_paths[:count]],
                                                   threads, repeats, count, target, precision, mode),)))
    return results


def format_photo_bench(results: list[dict]) -> str:
    lines = []
    for r in results:
        p, q = r["protect_s"], r["recover_s"]
        lines.append(f"{r.get('mode', 'keyless'):>7} {r['faces']} face(s) ({r['found']} found, {r['tiles']} tiles): "
                     f"protect {r['protect_total_s']:.2f} s (" + ", ".join(f"{k} {v:.2f}" for k, v in p.items())
                     + (f"; {r['protect_floor_ratio']:.1f}x its codec floor" if "protect_floor_ratio" in r else "")
                     + ("; detector graphs " + ", ".join(f"{k} {v:.2f}" for k, v in r["detector_graphs_s"].items())
                        if r.get("detector_graphs_s") else "")
                     + f"), recover {r['recover_total_s']:.2f} s (" + ", ".join(f"{k} {v:.2f}" for k, v in q.items())
                     + (f"; {r['recover_floor_ratio']:.1f}x" if "recover_floor_ratio" in r else "")
                     + f"); PNG {r.get('protected_png_mb', float('nan')):.1f} MB (source {r.get('source_png_mb', float('nan')):.1f}"
                     + (f", sealed {r['sealed_mb']:.2f} MB of {r['regions_raw_mb']:.2f} MB raw" if r.get("sealed_mb") else "")
                     + f"); RSS MB load / before / peak {r['rss_after_load_mb']:.0f} / "
                     f"{r.get('rss_before_protect_mb') or float('nan'):.0f} / {r['peak_rss_mb']:.0f}")
    return "\n".join(lines)
