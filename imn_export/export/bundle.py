"""The bundle: a folder of artifacts plus ``manifest.json`` (the SDK contract, sdk/spec/bundle.md)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from imn_sdk.bundle import file_sha256

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"


def sha256_path(path: str | os.PathLike) -> str:
    """sha256 of a file, or of a folder (``.mlpackage``): its relative file paths and contents
    in sorted order, so the same package always hashes the same."""
    path = Path(path)
    if path.is_file():
        return file_sha256(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        digest.update(sha256_path(file).encode())
    return digest.hexdigest()


def size_bytes(path: Path) -> int:
    path = Path(path)
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def read_manifest(folder: Path) -> dict | None:
    path = Path(folder) / MANIFEST
    if not path.exists():
        return None
    manifest = json.loads(path.read_text())
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path} has schema_version {manifest.get('schema_version')}, this tool "
                         f"writes {SCHEMA_VERSION}; export into a new --out folder")
    return manifest


def write_manifest(folder: Path, manifest: dict) -> Path:
    path = Path(folder) / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path


def artifact_key(entry: dict) -> tuple[str, str, str, int]:
    return entry["graph"], entry["target"], entry["precision"], entry["size"]


def merge_artifacts(old: list[dict], new: list[dict]) -> list[dict]:
    """New entries replace old ones with the same (graph, target, precision, size)."""
    replaced = {artifact_key(e) for e in new}
    return [e for e in old if artifact_key(e) not in replaced] + new


def remove_path(path: Path) -> None:
    """Delete a file or a folder (an ``.mlpackage`` is a folder)."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def move_into_place(tmp: Path, final: Path) -> None:
    """Replace ``final`` with ``tmp`` (file or folder); the caller has decided overwriting is allowed."""
    if final.is_dir():
        remove_path(final)
    os.replace(tmp, final)
