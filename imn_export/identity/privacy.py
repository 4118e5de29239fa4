"""``imn eval-privacy``: the full pipeline on real faces, judged by dlib's recognizer.

protected + preset identity -> Mask (Mask-net) -> masked (hiding network, saved as 8-bit PNG)
-> recovered. dlib, which we did not train, says whether the protected person can still be found
among the candidate faces, whether the Mask took the replacement's identity, whether the Mask keeps
the face's landmarks and whether a detector still finds one face in it.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from imn_export.evaluation import hide_reveal_png, image_grid
from imn_export.identity.teacher import DlibJudge, FaceReading
from imn_export.io import read_rgb, to_tensor, to_uint8, write_png
from imn_export.metrics import image_metrics, mean_metrics
from imn_export.nn.hiding import HidingNetwork
from imn_export.nn.masknet import MaskNet

GOALS = {"reidentification_mask": 0.02, "reidentification_masked": 0.02,
         "identity_transfer": 0.90, "landmark_error": 0.05, "one_face_detected": 0.99}


@dataclass
class Replacement:
    """A preset: its vector for Mask-net, and dlib's descriptor of the face it came from."""

    vector: np.ndarray         # (D,)
    descriptor: np.ndarray     # (128,) dlib, of the source face
    image: np.ndarray | None   # the source face, for the figure


@torch.no_grad()
def make_mask(masknet: MaskNet, face: np.ndarray, identity: np.ndarray,
              device: torch.device | str = "cpu") -> np.ndarray:
    """Mask face ``(H, W, 3)`` uint8 of an aligned face ``(H, W, 3)`` uint8 and identity ``(D,)``."""
    vector = torch.from_numpy(np.asarray(identity, np.float32))[None].to(device)
    return to_uint8(masknet(to_tensor(face).to(device), vector))


def landmark_error(mask: FaceReading, protected: FaceReading) -> float:
    """Mean distance of the five landmarks, as a share of the protected face's width."""
    return float(np.linalg.norm(mask.landmarks - protected.landmarks, axis=1).mean()
                 / max(protected.face_width, 1.0))


def nearest_is_self(query: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """For descriptors ``(N, 128)`` whose true match is row i of ``gallery`` ``(N, 128)``:
    is row i the nearest?"""
    distances = np.linalg.norm(query[:, None] - gallery[None], axis=2)
    return distances.argmin(axis=1) == np.arange(len(query))


def evaluate_privacy(masknet: MaskNet, hiding: HidingNetwork, paths: list[Path],
                     replacements: list[Replacement], judge: DlibJudge, aux_kind: str = "zeros",
                     aux_std: float = 1.0, device: torch.device | str = "cpu",
                     figure: str | Path | None = None, figure_count: int = 6,
                     progress: bool = True) -> dict:
    """Face i gets replacement ``i % K``. Returns the rates, means and per-image rows."""
    if len(paths) < 100:
        raise ValueError(f"re-identification needs >= 100 candidate faces, got {len(paths)}")
    readings: dict[str, list[FaceReading]] = {"protected": [], "mask": [], "masked": [],
                                              "recovered": []}
    rows, figure_rows = [], []
    with tempfile.TemporaryDirectory(prefix="imn-privacy-") as tmp:
        for i, path in enumerate(tqdm(paths, desc="eval-privacy", unit="face", disable=not progress)):
            protected = read_rgb(path)
            replacement = replacements[i % len(replacements)]
            mask = make_mask(masknet, protected, replacement.vector, device)
            result = hide_reveal_png(hiding, protected, mask, Path(tmp) / "masked.png", aux_kind,
                                     aux_std, device)
            images = {"protected": protected, "mask": mask, "masked": result["masked"],
                      "recovered": result["recovered"]}
            for key, image in images.items():
                readings[key].append(judge.read(image))
            rows.append({"protected": path.name, "replacement": i % len(replacements),
                         "recovered": image_metrics(protected, result["recovered"]),
                         "masked": image_metrics(mask, result["masked"])})
            if len(figure_rows) < figure_count and replacement.image is not None:
                figure_rows.append([protected, replacement.image, mask, result["masked"],
                                    result["recovered"]])
    if figure and figure_rows:
        write_png(figure, image_grid(figure_rows, ("protected", "replacement", "Mask", "masked",
                                                   "recovered")))

    descriptors = {k: np.stack([r.descriptor for r in v]) for k, v in readings.items()}
    gallery = descriptors["protected"]
    repl = np.stack([replacements[i % len(replacements)].descriptor for i in range(len(paths))])
    mask_d = descriptors["mask"]
    to_replacement = np.linalg.norm(mask_d - repl, axis=1)
    to_protected = np.linalg.norm(mask_d - gallery, axis=1)
    errors = np.array([landmark_error(m, p) for m, p in zip(readings["mask"], readings["protected"])])
    for row, e, dr, dp in zip(rows, errors, to_replacement, to_protected):
        row.update(landmark_error=float(e), dlib_distance_to_replacement=float(dr),
                   dlib_distance_to_protected=float(dp))
    rates = {
        "candidates": len(paths),
        "reidentification_mask": float(nearest_is_self(mask_d, gallery).mean()),
        "reidentification_masked": float(nearest_is_self(descriptors["masked"], gallery).mean()),
        "reidentification_recovered": float(nearest_is_self(descriptors["recovered"], gallery).mean()),
        "identity_transfer": float((to_replacement < to_protected).mean()),
        "landmark_error": float(errors.mean()),
        "landmark_error_within_5pct": float((errors <= 0.05).mean()),
        "one_face_detected": float(np.mean([r.faces == 1 for r in readings["mask"]])),
        "one_face_detected_protected": float(np.mean([r.faces == 1 for r in readings["protected"]])),
        "mean_dlib_distance_mask_to_protected": float(to_protected.mean()),
        "mean_dlib_distance_mask_to_replacement": float(to_replacement.mean()),
    }
    return {"n": len(paths), "replacements": len(replacements), "judge": judge.weights_note,
            "rates": rates, "goals": GOALS,
            "mean": {"recovered": mean_metrics([r["recovered"] for r in rows]),
                     "masked": mean_metrics([r["masked"] for r in rows])},
            "images": rows}


def format_privacy(results: dict) -> str:
    r, g = results["rates"], results["goals"]
    lines = [f"{results['n']} real faces, {results['replacements']} replacement identities, "
             f"judged by {results['judge']}",
             f"  re-identification of the Mask face    {r['reidentification_mask']:7.2%}  (goal <= {g['reidentification_mask']:.0%}; chance {1 / r['candidates']:.2%})",
             f"  re-identification of the masked face  {r['reidentification_masked']:7.2%}  (goal <= {g['reidentification_masked']:.0%})",
             f"  re-identification of the recovered    {r['reidentification_recovered']:7.2%}  (the authorised view)",
             f"  identity transfer                     {r['identity_transfer']:7.2%}  (goal >= {g['identity_transfer']:.0%})",
             f"  landmark error (share of face width)  {r['landmark_error']:7.2%}  (goal <= {g['landmark_error']:.0%}; {r['landmark_error_within_5pct']:.1%} of faces within)",
             f"  one face detected in the Mask         {r['one_face_detected']:7.2%}  (goal >= {g['one_face_detected']:.0%}; protected: {r['one_face_detected_protected']:.1%})"]
    m = results["mean"]
    lines.append(f"  recovered PSNR/SSIM {m['recovered']['psnr']:.2f} dB / {m['recovered']['ssim']:.4f}; "
                 f"masked vs Mask {m['masked']['psnr']:.2f} dB / {m['masked']['ssim']:.4f} (8-bit PNG)")
    return "\n".join(lines)
