"""The one table of export formats: it drives the CLI choices, argument checks and dispatch."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

PRECISIONS = ("fp32", "fp16", "int8")


@dataclass(frozen=True)
class ExportFormat:
    key: str
    name: str
    aliases: tuple[str, ...]
    suffix: str
    precisions: tuple[str, ...]
    module: str  # exposes export(), load(), read_metadata()
    runtime: str  # what runs the artifact for the parity checks
    calibrates_int8: bool  # int8 quantizes activations, so it needs calibration/ inputs
    layout: str = "NCHW"

    def load_module(self) -> ModuleType:
        return importlib.import_module(self.module)


FORMATS: dict[str, ExportFormat] = {
    f.key: f for f in (
        ExportFormat("onnx", "ONNX", ("ort", "onnxruntime"), ".onnx", ("fp32", "int8"),
                     "imn_export.export.onnx_format", "onnxruntime", True),
        ExportFormat("coreml", "Core ML", ("mlpackage", "mlprogram", "ios", "apple"), ".mlpackage",
                     ("fp32", "fp16", "int8"), "imn_export.export.coreml_format",
                     "Core ML on macOS, MIL evaluator elsewhere", True),
        ExportFormat("tflite", "TFLite (LiteRT)", ("litert", "android", "tfl"), ".tflite",
                     ("fp32", "int8"), "imn_export.export.tflite_format", "ai-edge-litert", True),
    )
}


def supported_pairs() -> list[str]:
    return [f"{f.key}:{p}" for f in FORMATS.values() for p in f.precisions]


def resolve_targets(names: str) -> list[ExportFormat]:
    """``"coreml"``, ``"onnx,tflite"``, aliases, or ``"all"`` -> formats, in table order."""
    wanted: list[ExportFormat] = []
    for raw in names.split(","):
        name = raw.strip().lower()
        if name == "all":
            return list(FORMATS.values())
        match = next((f for f in FORMATS.values() if name == f.key or name in f.aliases), None)
        if match is None:
            known = ", ".join(f"{f.key} (or {', '.join(f.aliases)})" for f in FORMATS.values())
            raise ValueError(f"unknown target {raw!r}; choose from: {known}, all")
        if match not in wanted:
            wanted.append(match)
    return [f for f in FORMATS.values() if f in wanted]


def resolve_precisions(names: str) -> list[str]:
    wanted = [n.strip().lower() for n in names.split(",")]
    if wanted == ["all"]:
        return list(PRECISIONS)
    unknown = [n for n in wanted if n not in PRECISIONS]
    if unknown:
        raise ValueError(f"unknown precision {unknown[0]!r}; choose from {', '.join(PRECISIONS)}, all")
    return [p for p in PRECISIONS if p in wanted]


def plan(targets: str, precisions: str) -> tuple[list[tuple[ExportFormat, str]], list[str]]:
    """The (format, precision) pairs to export and the skipped ones.

    Naming one target with a precision it lacks is an error that lists the pairs that exist;
    with several targets or ``all``, such pairs are skipped and reported instead.
    """
    formats, wanted = resolve_targets(targets), resolve_precisions(precisions)
    pairs = [(f, p) for f in formats for p in wanted if p in f.precisions]
    skipped = [f"{f.key}:{p}" for f in formats for p in wanted if p not in f.precisions]
    if skipped and (len(formats) == 1 or not pairs):
        raise ValueError(f"{', '.join(skipped)} is not a supported target:precision pair; "
                         f"supported: {', '.join(supported_pairs())}")
    return pairs, skipped
