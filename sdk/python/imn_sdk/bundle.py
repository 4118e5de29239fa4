"""A bundle written by ``imn-export`` (sdk/spec/bundle.md), opened for the photo pipeline:
the hide and reveal artifacts of one target and precision, the detector graphs, the donor bank
of Masks v2 and, where exported, the paper's Mask-net with its identity presets. ONNX Runtime runs the ``.onnx`` artifacts and LiteRT the ``.tflite`` ones; no
PyTorch anywhere."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from imn_sdk import masks
from imn_sdk.errors import BundleMismatch

PIPELINE_GRAPHS = ("hide", "reveal")
MASK_GENERATORS = ("donors", "masknet")  # Masks v2 (the default) and the paper's Mask-net
# A face draws its donor among this many farthest by identity: far enough that dlib calls the
# Mask the same person in 0.7% of synthetic validation faces (0.0% for the single farthest, 6-7%
# for any donor), while one person's photos do not all get one Mask (models/imn-donors.md).
DONOR_CANDIDATES = 8
RUNTIME_TARGETS = ("onnx", "tflite")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def onnx_session(path: Path, threads: int = 2):
    """The ONNX Runtime session the SDK runs, and so the one export parity and benches time."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # The arena keeps every activation buffer it ever grew (PNet on the largest pyramid level,
    # Mask-net, hide) for the process's life: 250 MB more peak for a 12 MP photo and no speed
    # gained (scripts/photo_memory.py, README).
    options.enable_cpu_mem_arena = False
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _onnx_runner(path: Path, inputs: list[str], outputs: list[str], threads: int) -> Callable:
    session = onnx_session(path, threads)

    def run(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(session.run(outputs, dict(zip(inputs, arrays))))
    return run


@contextlib.contextmanager
def native_logs_hidden():
    """Hide what native runtimes print straight to the process's stderr (LiteRT's "INFO: Created
    TensorFlow Lite XNNPACK delegate"): a person should see only what concerns them. Python
    errors still propagate; ``IMN_VERBOSE=1`` (``imn --verbose``) shows everything."""
    if os.environ.get("IMN_VERBOSE") == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _tflite_runner(path: Path, inputs: list[str], outputs: list[str], threads: int) -> Callable:
    from ai_edge_litert.interpreter import Interpreter

    with native_logs_hidden():
        interpreter = Interpreter(model_path=str(path), num_threads=threads)
        signature = interpreter.get_signature_runner()

    def run(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        result = signature(**dict(zip(inputs, arrays)))
        return tuple(result[name] for name in outputs)
    return run


_RUNNERS = {"onnx": _onnx_runner, "tflite": _tflite_runner}


@dataclass
class Artifact:
    entry: dict
    run: Callable[..., tuple[np.ndarray, ...]]


class Bundle:
    """Open ``folder``'s artifacts of ``target`` x ``precision`` (NCHW graphs only: ONNX and
    LiteRT's exports keep the contract's NCHW layout)."""

    def __init__(self, folder: str | Path, target: str = "onnx", precision: str = "fp32",
                 threads: int = 2):
        self.folder = Path(folder)
        manifest_path = self.folder / "manifest.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{self.folder} is not an IMN bundle (no manifest.json); "
                                    "make one with: imn-export --target onnx --out DIR")
        if target not in RUNTIME_TARGETS:
            raise ValueError(f"the Python SDK runs {', '.join(RUNTIME_TARGETS)} artifacts, not {target!r}")
        self.manifest = json.loads(manifest_path.read_text())
        self.manifest_sha256 = file_sha256(manifest_path)
        self.target, self.precision = target, precision
        found = {e["graph"]: e for e in self.manifest["artifacts"]
                 if e["target"] == target and e["precision"] == precision}
        missing = [g for g in PIPELINE_GRAPHS if g not in found]
        if missing:
            have = sorted({(e["target"], e["precision"]) for e in self.manifest["artifacts"]})
            raise BundleMismatch(f"{self.folder} has no {', '.join(missing)} artifact for {target} "
                                 f"{precision}; it has {', '.join(' '.join(p) for p in have)}")
        if "detector" not in self.manifest:
            raise BundleMismatch(f"{self.folder} lacks the face detector; export it with an ONNX "
                                 "target (imn-export --target onnx)")
        donors_entry = self.manifest.get("donors", {})
        graphs = [g for g in ("masknet", "identity", *PIPELINE_GRAPHS)
                  if g in found and (g != "masknet" or "identities" in self.manifest)
                  and (g != "identity" or "identity" in donors_entry)]
        self.artifacts = {}
        for graph in graphs:
            entry = found[graph]
            self.artifacts[graph] = Artifact(entry, _RUNNERS[target](
                self.folder / entry["file"], [i["name"] for i in entry["inputs"]],
                [o["name"] for o in entry["outputs"]], threads))
        sizes = {self.artifacts[g].entry["size"] for g in graphs if g != "identity"}
        if len(sizes) != 1:
            raise BundleMismatch(f"{', '.join(graphs)} differ in size ({sorted(sizes)})")
        self.size = sizes.pop()
        self.detector = {name: _onnx_runner(self.folder / g["file"], g["inputs"], g["outputs"], threads)
                         for name, g in self.manifest["detector"]["graphs"].items()}
        self.identities = (np.load(self.folder / self.manifest["identities"]["file"]).astype(np.float32)
                           if "masknet" in self.artifacts else None)
        self.donors = load_donors(self.folder, self.manifest["donors"], self.size) if "donors" in self.manifest else None
        # Each donor's identity vector (unit rows), when the bundle can embed faces to compare.
        self.donor_identities = (np.asarray(donors_entry["identity"]["vectors"], np.float32)
                                 if "identity" in self.artifacts and self.donors is not None else None)
        self.donor_candidates = int(donors_entry.get("identity", {}).get("farthest", DONOR_CANDIDATES))
        self.donor_sex = donors_entry.get("identity", {}).get("sex") if self.donor_identities is not None else None
        self.mask_generators = tuple(g for g, ok in (("donors", self.donors is not None),
                                                     ("masknet", self.identities is not None)) if ok)
        if not self.mask_generators:
            raise BundleMismatch(f"{self.folder} has neither a donor bank nor Mask-net: nothing makes "
                                 "Masks; export it again (imn-export --target onnx)")
        self.aux_kind = self.manifest["model"]["aux"].get("kind", "zeros")
        if self.aux_kind != "zeros":
            raise BundleMismatch(f"aux kind {self.aux_kind!r}: the SDK reveals with aux = 0 only")

    def describe(self) -> dict:
        """What a protected photo records about the bundle that hid it."""
        hide, reveal = self.artifacts["hide"].entry, self.artifacts["reveal"].entry
        return {"checkpoint_sha256": self.manifest["model"]["checkpoint_sha256"],
                "target": self.target, "precision": self.precision, "tile": self.size,
                "hide_sha256": hide["sha256"], "reveal_sha256": reveal["sha256"]}

    def check_can_reveal(self, recorded: dict) -> list[str]:
        """Raise ``BundleMismatch`` unless this bundle reveals what ``recorded``'s bundle hid: the
        same checkpoint at the same tile size. Another target or precision of it may reveal (a
        photo protected on an iPhone opens on an Android phone); the returned notes say so, since
        a quantized graph recovers best with its own partner (README, cross-runtime table)."""
        mine = self.describe()
        for key in ("checkpoint_sha256", "tile"):
            if recorded.get(key) != mine[key]:
                raise BundleMismatch(
                    f"this photo was protected with another bundle ({key}: {recorded.get(key)!r}, "
                    f"this bundle: {mine[key]!r}); open it with the bundle that protected it")
        hid = (recorded.get("target"), recorded.get("precision"))
        if hid == (mine["target"], mine["precision"]):
            return []
        return [f"hidden with {hid[0]} {hid[1]}, revealed with {mine['target']} {mine['precision']}"
                + (" (int8 on one side: up to 3 dB below revealing with the same artifact)"
                   if "int8" in (hid[1], mine["precision"]) else "")]

    def mask_face(self, face: np.ndarray, identity: np.ndarray) -> np.ndarray:
        """Mask-net's Mask ``(S, S, 3)`` uint8 of an aligned ``face (S, S, 3)`` uint8, identity ``(D,)``."""
        self.require("masknet")
        (mask,) = self.artifacts["masknet"].run(to_nchw(face), identity[None].astype(np.float32))
        return from_nchw(mask)

    def donor_mask(self, face: np.ndarray, donor: int) -> np.ndarray:
        """Masks v2: donor ``donor`` of the bank over the aligned ``face (S, S, 3)`` uint8."""
        self.require("donors")
        if not 0 <= donor < len(self.donors):
            raise ValueError(f"donor {donor} does not exist; the bundle has 0..{len(self.donors) - 1}")
        return masks.compose(face, self.donors[donor])

    def choose_donor(self, face: np.ndarray) -> int:
        """Masks v2's draw for an aligned ``face (S, S, 3)`` uint8 (sdk/spec/photo.md §3): one of the
        manifest's ``farthest`` (8) donors least like it by identity (cosine), among those of its
        apparent sex when the manifest has the classifier, uniformly from a cryptographic source;
        without an identity graph, any donor uniformly."""
        self.require("donors")
        if self.donor_identities is None:
            return secrets.randbelow(len(self.donors))
        vector = self.identity(face)
        unit = vector / max(float(np.linalg.norm(vector)), 1e-12)
        farthest = masks.donor_candidates(unit, self.donor_identities, self.donor_sex, self.donor_candidates)
        return int(farthest[secrets.randbelow(len(farthest))])

    def identity(self, face: np.ndarray) -> np.ndarray:
        """The identity graph's vector ``(128,)`` (compare by cosine) of an aligned face
        ``(S, S, 3)`` uint8, box-resized to the graph's input as Pillow's BOX filter does."""
        from PIL import Image

        side = self.artifacts["identity"].entry["inputs"][0]["shape"][-1]
        small = np.asarray(Image.fromarray(face).resize((side, side), Image.BOX))
        (vector,) = self.artifacts["identity"].run(to_nchw(small))
        return vector[0]

    def require(self, generator: str) -> None:
        if generator not in MASK_GENERATORS:
            raise ValueError(f"unknown Mask generator {generator!r}; choose from {', '.join(MASK_GENERATORS)}")
        if generator not in self.mask_generators:
            hint = ("export it again with the donor bank (imn-export copies models/donors-256.png)"
                    if generator == "donors" else "export it with Mask-net (imn-export --graphs all)")
            raise BundleMismatch(f"{self.folder} has no {generator} Masks (it has "
                                 f"{', '.join(self.mask_generators)}); {hint}")

    def hide(self, protected: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Masked tile ``(S, S, 3)`` uint8 (the 8-bit rounding a PNG stores)."""
        masked, _lost = self.artifacts["hide"].run(to_nchw(protected), to_nchw(mask))
        return from_nchw(masked)

    def reveal(self, masked: np.ndarray) -> np.ndarray:
        """Recovered tile ``(S, S, 3)`` uint8 from a masked tile, aux = 0."""
        x = to_nchw(masked)
        recovered, _mask = self.artifacts["reveal"].run(x, np.zeros_like(x))
        return from_nchw(recovered)


def to_nchw(image: np.ndarray) -> np.ndarray:
    return (image.astype(np.float32) / 255).transpose(2, 0, 1)[None].copy()


def from_nchw(tensor: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(tensor[0].transpose(1, 2, 0) * 255), 0, 255).astype(np.uint8)


def load_donors(folder: Path, entry: dict, size: int) -> np.ndarray:
    """The donor bank ``(K, S, S, 4)`` uint8 (RGB face and its outline as the 4th channel; zero
    outside ``box``) from the manifest's ``donors`` entry, checked against its SHA-256. The file
    is an RGB PNG of two rows of K tiles: the faces, then their outlines in gray."""
    from PIL import Image

    path = folder / entry["file"]
    if file_sha256(path) != entry["sha256"]:
        raise BundleMismatch(f"{path} does not match the manifest's SHA-256: the bundle was altered")
    if entry["size"] != size:
        raise BundleMismatch(f"the donor bank is for {entry['size']}-px crops, the graphs for {size}")
    x0, y0, x1, y1 = entry["box"]
    with Image.open(path) as image:
        atlas = np.asarray(image.convert("RGB"))
    width, height, count = x1 - x0, y1 - y0, entry["count"]
    if atlas.shape != (2 * height, width * count, 3):
        raise BundleMismatch(f"{path} is {atlas.shape[1]}x{atlas.shape[0]}, the manifest says "
                             f"two rows of {count} donors of {width}x{height}")
    donors = np.zeros((count, size, size, 4), np.uint8)
    for k in range(count):
        columns = slice(k * width, (k + 1) * width)
        donors[k, y0:y1, x0:x1, :3] = atlas[:height, columns]
        donors[k, y0:y1, x0:x1, 3] = atlas[height:, columns, 0]
    return donors
