"""``imn-export``: checkpoint -> bundle of per-graph artifacts, each checked against the reference.

For every (target, precision) pair the formats table allows, each graph is exported, embedded
with the same metadata dict, run by its runtime, and compared with the fp32 PyTorch reference
(CUDA when present): output parity, invertibility with the true lost information, end-to-end
recovery from the 8-bit masked face, and median latency. Results go into ``manifest.json`` and a
closing table. Nothing in the bundle is replaced without ``overwrite``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from imn_export import __version__
from imn_export.device import resolve_device
from imn_export.export.bench import median_ms
from imn_export.export.bundle import (SCHEMA_VERSION, merge_artifacts, move_into_place, read_manifest,
                                      remove_path, sha256_path, size_bytes, write_manifest)
from imn_export.export.formats import ExportFormat, plan
from imn_export.export.graphs import GRAPHS, GraphSpec, image_shape, sample_inputs
from imn_export.export.samples import calibration_images, check_images
from imn_export.train.checkpoint import load_hiding_network
from imn_export.verify.parity import (GraphRunners, RoundTrip, from_uint8_image, output_parity,
                                      round_trip, to_uint8_image, torch_runners)
from imn_export.verify.thresholds import INVERTIBILITY_MAX_ERROR, RECOVERY_DROP_DB, parity_threshold

LATENCY_RUNS = 5


@dataclass
class ExportOptions:
    targets: str = "coreml"
    precisions: str = "fp32"
    size: int = 256
    weights: str | None = None
    out: str = "dist"
    device: str = "auto"
    overwrite: bool = False
    check_images: str | None = None
    checks: int = 4
    threads: int = 2
    progress: bool = True


@dataclass
class ArtifactReport:
    graph: str
    target: str
    precision: str
    file: str
    status: str = "failed"
    error: str | None = None
    entry: dict = field(default_factory=dict)


def artifact_filename(graph: str, precision: str, fmt: ExportFormat, size: int) -> str:
    return f"{graph}-{size}-{precision}{fmt.suffix}"


_BOUNDED = {"protected", "mask", "masked", "recovered", "mask_recovered"}  # images in [0, 1]


def io_specs(spec: GraphSpec, size: int) -> tuple[list[dict], list[dict]]:
    """Input/output descriptions for the manifest; ``None`` range = unbounded (lost, aux)."""
    def describe(names: tuple[str, ...]) -> list[dict]:
        return [{"name": n, "shape": list(image_shape(size)), "dtype": "float32",
                 "range": [0.0, 1.0] if n in _BOUNDED else None} for n in names]

    return describe(spec.inputs), describe(spec.outputs)


def artifact_metadata(model: dict, spec: GraphSpec, fmt: ExportFormat, precision: str, size: int,
                      created: str) -> dict[str, str]:
    """The one metadata dict embedded in every artifact (string values: ONNX and Core ML need them)."""
    inputs, outputs = io_specs(spec, size)
    return {
        "imn.schema_version": str(SCHEMA_VERSION),
        "imn.model": model["name"],
        "imn.checkpoint_sha256": model["checkpoint_sha256"],
        "imn.graph": spec.name,
        "imn.description": f"IMN {spec.name}: {spec.doc}",
        "imn.target": fmt.key,
        "imn.precision": precision,
        "imn.size": str(size),
        "imn.layout": fmt.layout,
        "imn.inputs": json.dumps(inputs),
        "imn.outputs": json.dumps(outputs),
        "imn.aux": json.dumps(model["aux"]),
        "imn.exporter": f"imn-export {__version__}",
        "imn.created": created,
    }


def _aux_fn(aux: dict):
    if aux.get("kind", "zeros") == "zeros":
        return np.zeros_like
    generator = np.random.default_rng(0)
    std = float(aux.get("std", 1.0))
    return lambda like: (generator.standard_normal(like.shape) * std).astype(np.float32)


def graph_inputs(reference: GraphRunners, pairs, aux) -> dict[str, list[tuple[np.ndarray, ...]]]:
    """Realistic inputs per graph: image pairs for hide; for reveal, the reference's masked face
    rounded to 8 bits and the auxiliary input, as a phone would feed it."""
    hide = [(from_uint8_image(p), from_uint8_image(m)) for p, m in pairs]
    reveal = []
    for batch in hide:
        hidden = reference.hide(*batch)
        reveal.append((from_uint8_image(to_uint8_image(hidden["masked"])), aux(hidden["lost"])))
    return {"hide": hide, "reveal": reveal}


def calibration_inputs(reference: GraphRunners, pairs) -> dict[str, list[tuple[np.ndarray, ...]]]:
    """int8 calibration inputs per graph. Reveal is calibrated on the float masked face with the
    true lost information: then each of its coupling functions sees exactly the tensors the same
    function saw in hide, min/max calibration gives both graphs the same ranges, and the
    quantized hide and reveal stay inverses of each other."""
    hide = [(from_uint8_image(p), from_uint8_image(m)) for p, m in pairs]
    reveal = [tuple(reference.hide(*batch).values()) for batch in hide]
    return {"hide": hide, "reveal": reveal}


def _check_writable(out: Path, pairs, size: int, overwrite: bool, checkpoint_sha: str) -> None:
    manifest = read_manifest(out)
    if manifest and manifest["model"]["checkpoint_sha256"] != checkpoint_sha and not overwrite:
        raise ValueError(f"{out} is a bundle of another checkpoint ({manifest['model']['name']}, "
                         f"sha256 {manifest['model']['checkpoint_sha256'][:12]}); a bundle holds one "
                         "model: choose another --out, or --overwrite to start it afresh")
    if overwrite:
        return
    taken = [name for fmt, precision in pairs for graph in GRAPHS
             if (out / (name := artifact_filename(graph, precision, fmt, size))).exists()]
    if taken:
        raise FileExistsError(f"{out} already has {', '.join(taken)}; pass --overwrite to replace "
                              "them or choose another --out")


def export_bundle(options: ExportOptions, log=print) -> tuple[list[ArtifactReport], Path]:
    """Export and check every planned artifact; returns the reports and the manifest path."""
    pairs, skipped = plan(options.targets, options.precisions)
    if options.size <= 0 or options.size % 2:
        raise ValueError(f"--size must be a positive even number of pixels, got {options.size}")
    net, meta = load_hiding_network(options.weights)
    checkpoint = Path(meta["path"])
    model = {"name": checkpoint.stem, "checkpoint": checkpoint.name,
             "checkpoint_sha256": sha256_path(checkpoint), "aux": meta.get("aux", {"kind": "zeros"}),
             "hiding_config": meta.get("hiding_config")}
    out = Path(options.out)
    _check_writable(out, pairs, options.size, options.overwrite, model["checkpoint_sha256"])
    out.mkdir(parents=True, exist_ok=True)
    if skipped:
        log(f"skipping {', '.join(skipped)} (not a supported pair)")

    device = resolve_device(options.device)
    reference = torch_runners(copy.deepcopy(net), device)
    aux = _aux_fn(model["aux"])
    checks = check_images(options.size, options.checks,
                          Path(options.check_images) if options.check_images else None)
    check_pairs = checks.pairs()
    check_inputs = graph_inputs(reference, check_pairs, aux)
    reference_trip = round_trip(reference, reference, check_pairs, aux)
    calibration = None
    if any(precision == "int8" and fmt.calibrates_int8 for fmt, precision in pairs):
        calibration_set = calibration_images(options.size)
        calibration = calibration_inputs(reference, calibration_set.pairs())
        calibration_source = calibration_set.source

    cpu_net = copy.deepcopy(net).cpu().float().eval()
    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    reports: list[ArtifactReport] = []
    bar = tqdm(pairs, desc="imn-export", unit="target", disable=not options.progress)
    for fmt, precision in bar:
        bar.set_postfix_str(f"{fmt.key} {precision}")
        reports += _export_pair(fmt, precision, options, model, cpu_net, reference, check_inputs,
                                check_pairs, reference_trip, aux, created, out,
                                calibration, calibration_source if calibration else None, log)

    manifest = read_manifest(out) if not options.overwrite else None
    entries = [r.entry for r in reports if r.status != "failed"]
    new_manifest = {
        "schema_version": SCHEMA_VERSION,
        "kind": "imn-bundle",
        "model": model,
        "created": created,
        "exporter": _versions(),
        "reference": {"runtime": reference.label, "check_images": checks.source,
                      "recovered_psnr": reference_trip.recovered_psnr,
                      "masked_psnr": reference_trip.masked_psnr},
        "artifacts": merge_artifacts(manifest["artifacts"] if manifest else [], entries),
    }
    path = write_manifest(out, new_manifest)
    return reports, path


def _export_pair(fmt, precision, options, model, cpu_net, reference, check_inputs, check_pairs,
                 reference_trip: RoundTrip, aux, created, out: Path, calibration, calibration_source,
                 log) -> list[ArtifactReport]:
    module = fmt.load_module()
    reports, runners, temps = {}, {}, {}
    try:
        for name, spec in GRAPHS.items():
            filename = artifact_filename(name, precision, fmt, options.size)
            report = reports[name] = ArtifactReport(name, fmt.key, precision, filename)
            tmp = out / f".tmp-{filename}"  # same suffix: converters check it
            metadata = artifact_metadata(model, spec, fmt, precision, options.size, created)
            calibrated = precision == "int8" and fmt.calibrates_int8
            notes = module.export(spec.build(cpu_net).eval(), spec, sample_inputs(spec, options.size),
                                  tmp, precision, metadata, calibration[name] if calibrated else None)
            if calibrated:
                notes["calibration"] = calibration_source
            temps[name] = tmp
            runners[name] = module.load(tmp, spec, options.threads)
            parity = output_parity(runners[name], getattr(reference, name), check_inputs[name])
            inputs, outputs = io_specs(spec, options.size)
            report.entry = {
                "graph": name, "target": fmt.key, "precision": precision, "size": options.size,
                "file": filename, "layout": fmt.layout, "inputs": inputs, "outputs": outputs,
                "runtime": fmt.runtime, "notes": notes,
                "checks": {"parity_psnr": parity,
                           "parity_threshold": parity_threshold(name, fmt.key, precision),
                           # Core ML's Linux stand-in (the MIL evaluator) says nothing about speed.
                           "latency_ms": (median_ms(runners[name], check_inputs[name][0], LATENCY_RUNS)
                                          if getattr(module, "predicts_natively", lambda: True)()
                                          else None)},
            }
        label = f"{fmt.key} {precision}"
        trip = round_trip(GraphRunners(label, runners["hide"], runners["reveal"]),
                          GraphRunners(label, runners["hide"], runners["reveal"]), check_pairs, aux)
        for name, report in reports.items():
            checks = report.entry["checks"]
            checks.update({
                "recovered_psnr": trip.recovered_psnr, "masked_psnr": trip.masked_psnr,
                "reference_recovered_psnr": reference_trip.recovered_psnr,
                "recovery_drop_limit_db": RECOVERY_DROP_DB[precision],
                "invertibility_max_error": trip.invertibility_error,
                "invertibility_limit": INVERTIBILITY_MAX_ERROR[precision],
            })
            failures = []
            if min(checks["parity_psnr"].values()) < checks["parity_threshold"]:
                failures.append("parity")
            if trip.recovered_psnr < reference_trip.recovered_psnr - RECOVERY_DROP_DB[precision]:
                failures.append("recovery")
            if trip.invertibility_error > INVERTIBILITY_MAX_ERROR[precision]:
                failures.append("invertibility")
            checks["passed"] = not failures
            report.status = "ok" if not failures else "below threshold: " + ", ".join(failures)
            final = out / report.file
            move_into_place(temps.pop(name), final)
            report.entry["sha256"] = sha256_path(final)
            report.entry["bytes"] = size_bytes(final)
    except Exception as error:  # one failing target must not stop the others (reported in the table)
        log(f"{fmt.key} {precision} failed: {error}")
        log(traceback.format_exc(limit=3))
        for report in reports.values():
            if report.status == "failed" or not report.entry.get("sha256"):
                report.status, report.error = "failed", f"{type(error).__name__}: {error}"
    finally:
        for tmp in temps.values():
            if tmp.exists():
                remove_path(tmp)
    return list(reports.values())


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"imn": __version__, "torch": torch.__version__}
    for package in ("onnx", "onnxruntime", "onnxsim", "coremltools", "litert-torch", "ai-edge-litert"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found


def format_report(reports: list[ArtifactReport]) -> str:
    """The closing table: one row per artifact."""
    header = ("graph", "target", "prec", "status", "MB", "parity dB", "min", "inv err",
              "rec dB", "ref dB", "ms")
    rows = [header]
    for r in reports:
        c = r.entry.get("checks", {})
        parity = c.get("parity_psnr")
        rows.append((
            r.graph, r.target, r.precision, r.status if r.status != "failed" else f"failed ({r.error})"[:60],
            f"{r.entry['bytes'] / 2**20:.2f}" if "bytes" in r.entry else "-",
            f"{min(parity.values()):.1f}" if parity else "-",
            f"{c['parity_threshold']:.0f}" if "parity_threshold" in c else "-",
            f"{c['invertibility_max_error']:.1e}" if "invertibility_max_error" in c else "-",
            f"{c['recovered_psnr']:.2f}" if "recovered_psnr" in c else "-",
            f"{c['reference_recovered_psnr']:.2f}" if "reference_recovered_psnr" in c else "-",
            f"{c['latency_ms']:.1f}" if c.get("latency_ms") is not None else "-",
        ))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(row, widths)) for row in rows)
