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
import shutil
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from imn_export import __version__
from imn_export.device import resolve_device
from imn_export.export.bundle import (SCHEMA_VERSION, merge_artifacts, move_into_place, read_manifest,
                                      remove_path, sha256_path, size_bytes, write_manifest)
from imn_export.donors.choice import identity_input
from imn_export.export.formats import ExportFormat, plan
from imn_export.export.graphs import GRAPHS, HIDING_GRAPHS, GraphSpec, Models, sample_inputs
from imn_export.export.runtimes import median_ms
from imn_export.export.samples import calibration_images, check_images
from imn_export.identity.presets import PRESETS_NAME, load_presets
from imn_export.nn.identity_encoder import IdentityGraph
from imn_export.verify.parity import (GraphRunners, RoundTrip, from_uint8_image, output_parity,
                                      round_trip, to_uint8_image, torch_runner, torch_runners)
from imn_export.export.thresholds import INVERTIBILITY_MAX_ERROR, RECOVERY_DROP_DB, parity_threshold
from imn_export.weights import (IDENTITY_WEIGHTS_NAME, MASKNET_WEIGHTS_NAME, MODELS_DIR, QAT_WEIGHTS_NAME,
                                load_hiding_network, load_identity_encoder, load_masknet)

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
    masknet: str | None = None     # Mask-net weights; default the shipped ones when present
    presets: str | None = None     # identities.npy; default models/identities.npy
    no_masknet: bool = False
    donors: str | None = None      # folder with donors.json (Masks v2); default models/
    graphs: str = "all"            # comma list of graph names, or all
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


_BOUNDED = {"protected", "mask", "masked", "recovered", "mask_recovered", "face"}  # images in [0, 1]


def io_specs(spec: GraphSpec, size: int, vector_dim: int = 128) -> tuple[list[dict], list[dict]]:
    """Input/output descriptions for the manifest; ``None`` range = unbounded (lost, aux) or a
    unit vector (identity)."""
    def describe(names: tuple[str, ...]) -> list[dict]:
        return [{"name": n, "shape": list(spec.input_shape(n, size, vector_dim)), "dtype": "float32",
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


def masknet_inputs(pairs, identities: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Mask-net inputs: each pair's protected face with the presets in turn."""
    return [(from_uint8_image(p), identities[i % len(identities)][None].astype(np.float32))
            for i, (p, _) in enumerate(pairs)]


def calibration_inputs(reference: GraphRunners, pairs) -> dict[str, list[tuple[np.ndarray, ...]]]:
    """int8 calibration inputs per graph. Reveal is calibrated on the float masked face with the
    true lost information: then each of its coupling functions sees exactly the tensors the same
    function saw in hide, min/max calibration gives both graphs the same ranges, and the
    quantized hide and reveal stay inverses of each other."""
    hide = [(from_uint8_image(p), from_uint8_image(m)) for p, m in pairs]
    reveal = [tuple(reference.hide(*batch).values()) for batch in hide]
    return {"hide": hide, "reveal": reveal}


def _check_writable(out: Path, pairs, size: int, overwrite: bool, checkpoint_sha: str,
                    graphs: list[str]) -> None:
    manifest = read_manifest(out)
    if manifest and manifest["model"]["checkpoint_sha256"] != checkpoint_sha and not overwrite:
        raise ValueError(f"{out} is a bundle of another checkpoint ({manifest['model']['name']}, "
                         f"sha256 {manifest['model']['checkpoint_sha256'][:12]}); a bundle holds one "
                         "model: choose another --out, or --overwrite to start it afresh")
    if overwrite:
        return
    taken = [name for fmt, precision in pairs for graph in graphs
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
             "hiding_config": meta.get("hiding_config"),
             # > 0: trained on key scrambles of this piece size (keyed photos, sdk/spec/photo.md)
             "key_piece": (meta.get("config") or {}).get("key_piece", 0),
             # what those scrambles were of: the cover (Mask) or, in older checkpoints, the face
             "key_target": (meta.get("config") or {}).get("key_target", "face")}
    models, identities = Models(net), None
    masknet_path = _masknet_path(options, log)
    if masknet_path:
        models.masknet = load_masknet(masknet_path)
        identities_path = Path(options.presets) if options.presets else MODELS_DIR / PRESETS_NAME
        identities = load_presets(identities_path)
        model["masknet"] = {"checkpoint": masknet_path.name, "sha256": sha256_path(masknet_path),
                            "config": models.masknet.config.to_dict()}
    donors_folder = _donors_folder(options, log)
    if donors_folder is not None and (MODELS_DIR / IDENTITY_WEIGHTS_NAME).is_file():
        # Masks v2 draw each face's donor far from it by this encoder (sdk/spec/photo.md §3).
        models.identity = load_identity_encoder()
        model["identity"] = {"checkpoint": IDENTITY_WEIGHTS_NAME,
                             "sha256": sha256_path(MODELS_DIR / IDENTITY_WEIGHTS_NAME)}
    graphs = [spec for spec in GRAPHS.values() if spec.available(models)]
    if options.graphs != "all":
        wanted = [g.strip() for g in options.graphs.split(",") if g.strip()]
        unknown = [g for g in wanted if g not in GRAPHS]
        if unknown:
            raise ValueError(f"unknown graph {', '.join(unknown)}; choose from {', '.join(GRAPHS)}")
        missing = [g for g in wanted if g not in {s.name for s in graphs}]
        if missing:
            raise ValueError(f"cannot export {', '.join(missing)}: no Mask-net weights (--masknet)")
        graphs = [spec for spec in graphs if spec.name in wanted]
    out = Path(options.out)
    _check_writable(out, pairs, options.size, options.overwrite, model["checkpoint_sha256"],
                    [spec.name for spec in graphs])
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
    references = {"hide": reference.hide, "reveal": reference.reveal}
    if models.masknet is not None:
        references["masknet"] = torch_runner(
            lambda f, i: (models.masknet.to(device)(f, i),), ("mask",), device)
        check_inputs["masknet"] = masknet_inputs(check_pairs, identities)
    if models.identity is not None:
        identity_graph = IdentityGraph(models.identity).to(device).eval()
        references["identity"] = torch_runner(identity_graph, ("identity",), device)
        check_inputs["identity"] = [(identity_input(p),) for p, _ in check_pairs]
    calibration = None
    if any(precision == "int8" and fmt.calibrates_int8 for fmt, precision in pairs):
        calibration_set = calibration_images(options.size)
        calibration = calibration_inputs(reference, calibration_set.pairs())
        if models.masknet is not None:
            calibration["masknet"] = masknet_inputs(calibration_set.pairs(), identities)
        if models.identity is not None:
            calibration["identity"] = [(identity_input(p),) for p, _ in calibration_set.pairs()]
        calibration_source = calibration_set.source

    cpu_models = Models(copy.deepcopy(net).cpu().float().eval(),
                        copy.deepcopy(models.masknet).cpu().float().eval() if models.masknet else None,
                        copy.deepcopy(models.identity).cpu().float().eval() if models.identity else None)
    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    reports: list[ArtifactReport] = []
    bar = tqdm(pairs, desc="imn-export", unit="target", disable=not options.progress)
    for fmt, precision in bar:
        bar.set_postfix_str(f"{fmt.key} {precision}")
        reports += _export_pair(fmt, precision, options, model, cpu_models, graphs, references,
                                check_inputs, check_pairs, reference_trip, aux, created, out,
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
    if identities is not None:
        new_manifest["identities"] = _write_identities(out, identities)
    elif manifest and "identities" in manifest:
        new_manifest["identities"] = manifest["identities"]
    donors = _copy_donors(donors_folder, options, out, models.identity)
    if donors is not None:
        new_manifest["donors"] = donors
    elif manifest and "donors" in manifest and manifest["donors"]["size"] == options.size:
        new_manifest["donors"] = manifest["donors"]
    detector = _export_detector(options, pairs, model, created, out, log)
    if detector is not None:
        new_manifest["detector"] = detector
    elif manifest and "detector" in manifest:
        new_manifest["detector"] = manifest["detector"]
    path = write_manifest(out, new_manifest)
    return reports, path


def _masknet_path(options: ExportOptions, log) -> Path | None:
    if options.no_masknet:
        return None
    if options.masknet:
        path = Path(options.masknet)
        if not path.is_file():
            raise FileNotFoundError(f"--masknet {path} not found")
        return path
    shipped = MODELS_DIR / MASKNET_WEIGHTS_NAME
    if shipped.is_file():
        return shipped
    log(f"no Mask-net weights ({shipped}); exporting hide and reveal only")
    return None


def _export_detector(options: ExportOptions, pairs, model: dict, created: str, out: Path,
                     log) -> dict | None:
    """MTCNN's graphs for the SDK's photo pipeline: the dynamic ONNX graphs (desktop) and static
    ones for each ONNX, TFLite or Core ML target (phones), with every full export."""
    from imn_export.export.detector import STATIC_TARGETS

    targets = [t for t in STATIC_TARGETS if t in {fmt.key for fmt, _ in pairs}]
    if not targets or options.graphs != "all":
        return None
    from imn_export.export.detector import export_detector, export_static_detector

    metadata = {"imn.schema_version": str(SCHEMA_VERSION), "imn.model": model["name"],
                "imn.created": created, "imn.exporter": f"imn-export {__version__}"}
    try:
        entry = export_detector(out, metadata, log)
        entry["static"] = export_static_detector(out, targets, metadata, log)
        return entry
    except ImportError as error:
        log(f"no face detector in the bundle: {error}")
        return None


def _donors_folder(options: ExportOptions, log) -> Path | None:
    """Where the donor bank of Masks v2 comes from (``--donors`` or models/), None without one."""
    from imn_export.donors.bank import BANK_INFO

    folder = Path(options.donors) if options.donors else MODELS_DIR
    if (folder / BANK_INFO).is_file():
        return folder
    if options.donors:
        raise FileNotFoundError(f"--donors {folder}: no {BANK_INFO} (make one with imn make-donors)")
    log(f"no donor bank ({folder / BANK_INFO}): the bundle makes Masks with Mask-net only")
    return None


def _copy_donors(folder: Path | None, options: ExportOptions, out: Path, encoder) -> dict | None:
    """The donor bank of Masks v2 (``donors-{size}.png``) copied into the bundle, resampled when
    it was made for another crop size; its manifest entry, with each donor's identity vector
    when the bundle has the ``identity`` graph."""
    from imn_export.donors.bank import IDENTITY_READ, manifest_entry, read_bank, resize_bank

    if folder is None:
        return None
    entry = manifest_entry(folder)
    if entry["size"] != options.size:
        # A bank for another crop size is resampled: the donors are smooth faces, and the
        # composite works in the crop whatever its size.
        with tempfile.TemporaryDirectory(prefix=".imn-donors-", dir=out) as tmp_dir:
            folder = resize_bank(folder, options.size, Path(tmp_dir)).parent
            entry = manifest_entry(folder)
            donors = read_bank(folder)
            shutil.move(folder / entry["file"], out / f".tmp-{entry['file']}")
    else:
        donors = read_bank(folder)
        shutil.copyfile(folder / entry["file"], out / f".tmp-{entry['file']}")
    move_into_place(out / f".tmp-{entry['file']}", out / entry["file"])
    bank_entry = dict(entry)
    sex = entry.pop("sex", None)
    entry.pop(IDENTITY_READ, None)
    if encoder is not None:
        from imn_export.donors.choice import bank_identities
        from imn_sdk.bundle import DONOR_CANDIDATES
        from imn_sdk.masks import apparent_male
        vectors = bank_identities(bank_entry, donors, encoder)
        entry["identity"] = {"graph": "identity", "vectors": vectors, "farthest": DONOR_CANDIDATES}
        if sex is not None:
            entry["identity"]["sex"] = {"weights": sex["weights"], "bias": sex["bias"],
                                        "donor_male": apparent_male(sex, np.asarray(vectors)).tolist(),
                                        "validation_accuracy": sex["validation_accuracy"]}
    return entry


def _write_identities(out: Path, identities: np.ndarray) -> dict:
    """``identities.npy`` in the bundle: ``(K, D)`` float32 unit rows, one per preset."""
    path = out / PRESETS_NAME
    tmp = out / f".tmp-{PRESETS_NAME}"
    with open(tmp, "wb") as f:
        np.save(f, identities.astype(np.float32))
    move_into_place(tmp, path)
    return {"file": PRESETS_NAME, "sha256": sha256_path(path), "shape": list(identities.shape),
            "dtype": "float32", "rows": "unit identity vectors, input 'identity' of masknet"}


def _export_pair(fmt, precision, options, model, cpu_models: Models, graphs: list[GraphSpec],
                 references, check_inputs, check_pairs, reference_trip: RoundTrip, aux, created,
                 out: Path, calibration, calibration_source, log) -> list[ArtifactReport]:
    """Export every graph for one (target, precision); a graph that fails is reported and does
    not take the others down (Mask-net failing leaves hide and reveal usable)."""
    module = fmt.load_module()
    reports, runners, temps = {}, {}, {}
    try:
        for spec in graphs:
            report = reports[spec.name] = ArtifactReport(
                spec.name, fmt.key, precision, artifact_filename(spec.name, precision, fmt, options.size))
            try:
                runners[spec.name], temps[spec.name] = _export_graph(
                    module, fmt, precision, spec, report, options, model, cpu_models, references,
                    check_inputs, created, out, calibration, calibration_source)
            except Exception as error:  # noqa: BLE001 - reported in the closing table
                report.status, report.error = "failed", f"{type(error).__name__}: {error}"
                log(f"{fmt.key} {precision} {spec.name} failed: {error}")
                log(traceback.format_exc(limit=3))
        for name in [n for n in runners if n not in HIDING_GRAPHS]:  # Mask-net, identity: parity alone
            checks = reports[name].entry["checks"]
            failures = ["parity"] if min(checks["parity_psnr"].values()) < checks["parity_threshold"] else []
            _finish_report(reports[name], failures, out, temps.pop(name))
        if not all(g in runners for g in HIDING_GRAPHS):
            for name in HIDING_GRAPHS:
                if name in reports and reports[name].status != "failed":
                    reports[name].status = "failed"
                    reports[name].error = "its partner graph failed; hide and reveal ship together"
            return list(reports.values())
        label = f"{fmt.key} {precision}"
        trip = round_trip(GraphRunners(label, runners["hide"], runners["reveal"]),
                          GraphRunners(label, runners["hide"], runners["reveal"]), check_pairs, aux)
        for name in HIDING_GRAPHS:
            report = reports[name]
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
            _finish_report(report, failures, out, temps.pop(name))
    except Exception as error:  # one failing target must not stop the others (reported in the table)
        log(f"{fmt.key} {precision} failed: {error}")
        log(traceback.format_exc(limit=3))
        for report in reports.values():
            if report.status == "failed" or not report.entry.get("sha256"):
                report.status = "failed"
                report.error = report.error or f"{type(error).__name__}: {error}"
    finally:
        for tmp in temps.values():
            if tmp.exists():
                remove_path(tmp)
    return list(reports.values())


def _export_graph(module, fmt, precision, spec: GraphSpec, report: ArtifactReport, options, model,
                  cpu_models: Models, references, check_inputs, created, out: Path, calibration,
                  calibration_source):
    """Write one graph to a temp file, load it, measure parity and latency; returns (runner, tmp)."""
    name = spec.name
    tmp = out / f".tmp-{report.file}"  # same suffix: converters check it
    metadata = artifact_metadata(model, spec, fmt, precision, options.size, created)
    calibrated = precision == "int8" and fmt.calibrates_int8
    try:
        notes = module.export(spec.build(cpu_models).eval(), spec, sample_inputs(spec, options.size),
                              tmp, precision, metadata, calibration[name] if calibrated else None)
        if calibrated:
            notes["calibration"] = calibration_source
        runner = module.load(tmp, spec, options.threads)
        parity = output_parity(runner, references[name], check_inputs[name])
    except BaseException:
        if tmp.exists():
            remove_path(tmp)
        raise
    inputs, outputs = io_specs(spec, options.size)
    report.entry = {
        "graph": name, "target": fmt.key, "precision": precision, "size": options.size,
        "file": report.file, "layout": fmt.layout, "inputs": inputs, "outputs": outputs,
        "runtime": fmt.runtime, "notes": notes,
        "checks": {"parity_psnr": parity,
                   "parity_threshold": parity_threshold(name, fmt.key, precision),
                   # Core ML's Linux stand-in (the MIL evaluator) says nothing about speed.
                   "latency_ms": (median_ms(runner, check_inputs[name][0], LATENCY_RUNS)
                                  if getattr(module, "predicts_natively", lambda: True)() else None)},
    }
    return runner, tmp


def _finish_report(report: ArtifactReport, failures: list[str], out: Path, tmp: Path) -> None:
    report.entry["checks"]["passed"] = not failures
    report.status = "ok" if not failures else "below threshold: " + ", ".join(failures)
    final = out / report.file
    move_into_place(tmp, final)
    report.entry["sha256"] = sha256_path(final)
    report.entry["bytes"] = size_bytes(final)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"imn": __version__, "torch": torch.__version__}
    for package in ("onnx", "onnxruntime", "onnxsim", "coremltools", "litert-torch", "ai-edge-litert"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found


def int8_weights_hint(reports: list[ArtifactReport], weights: str | None) -> str | None:
    """What to do when int8 hiding artifacts from weights that were not quantization-aware miss
    the recovery limit; None when nothing to say."""
    missed = sorted({r.target for r in reports if r.precision == "int8" and r.graph in HIDING_GRAPHS
                     and "recovery" in r.status})
    qat = MODELS_DIR / QAT_WEIGHTS_NAME
    if not missed or not qat.is_file() or (weights and Path(weights).resolve() == qat.resolve()):
        return None
    return (f"hint: {', '.join(missed)} int8 recovery is below the limit with these weights; int8 "
            f"bundles are made from the quantization-aware weights: imn-export --target "
            f"{','.join(missed)} --precision int8 --weights {qat} --out dist-int8")


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
