"""``imn eval-privacy``: the full pipeline on real faces, judged by dlib's recognizer.

protected -> Mask (Masks v2: a donor of nobody from the bank, or the paper's Mask-net with a
preset identity) -> masked (hiding network, saved as 8-bit PNG) -> recovered. dlib, which we did
not train, says first whether it calls the Mask the same person as the protected face (distance
< 0.6, its own rule), then whether the protected person is the nearest of all candidate faces,
whether the Mask keeps the face's landmarks and whether a detector still finds one face in it.
Rates come with Wilson 95% intervals: 300 faces cannot show a rate of 0%.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from imn_export.evaluate.hiding import hide_reveal_png, image_grid
from imn_export.identity.teacher import DlibJudge, FaceReading
from imn_export.io import read_rgb, to_tensor, to_uint8, write_png
from imn_export.metrics import image_metrics, mean_metrics
from imn_export.nn.hiding import HidingNetwork
from imn_export.nn.masknet import MaskNet

# Issue #17's goals; the PSNR goals are the shipped Mask-net's figures (privacy-real.json).
GOALS = {"same_person_mask": 0.02, "reidentification_mask": 0.01, "one_face_detected": 0.99,
         "landmark_error": 0.05, "recovered_psnr": 39.86, "masked_psnr": 43.37, "mask_ms": 100.0}

MaskMaker = Callable[[np.ndarray, int], tuple[np.ndarray, dict]]


def wilson(successes: int, n: int) -> list[float]:
    """Wilson score 95% interval of a rate ``successes / n``."""
    from scipy.stats import binomtest

    interval = binomtest(int(successes), int(n)).proportion_ci(0.95, method="wilson")
    return [round(float(interval.low), 4), round(float(interval.high), 4)]


def donor_masks(donors: np.ndarray, seed: int = 0, encoder: torch.nn.Module | None = None,
                candidates: int = 8, sex: dict | None = None, bank: dict | None = None) -> MaskMaker:
    """Masks v2 for the evaluation, drawn as the SDKs draw them (sdk/spec/photo.md §3) but
    repeatably (``seed``): with ``encoder``, one of the ``candidates`` donors farthest from the
    face by identity among those of its apparent sex with the ``sex`` classifier
    (donors.json); without an encoder, any donor. ``bank``: the bank's manifest entry, for the
    identity vectors it keeps (``donors.choice.bank_identities``)."""
    from imn_sdk.masks import apparent_male, compose, donor_candidates

    rng = np.random.default_rng(seed)
    graph = vectors = None
    if encoder is not None:
        from imn_export.donors.choice import bank_identities, identity_graph
        if bank is None:  # a bank with filled rims cannot be read from its pixels
            raise ValueError("donor_masks with an encoder needs the bank's manifest entry (bank=)")
        graph = identity_graph(encoder)
        vectors = np.asarray(bank_identities(bank, donors, encoder), np.float32)
        if sex is not None:  # as the exporter writes it into the bundle
            sex = {**sex, "donor_male": apparent_male(sex, vectors)}

    def make(face: np.ndarray, i: int) -> tuple[np.ndarray, dict]:
        if vectors is None:
            k = int(rng.integers(len(donors)))
        else:
            from imn_export.donors.choice import identity_vectors
            unit = identity_vectors(graph, [face])[0]
            k = int(rng.choice(donor_candidates(unit, vectors, sex, candidates)))
        return compose(face, donors[k]), {"donor": k}
    return make


def bank_masks(folder: str | Path | None = None, seed: int = 0,
               by_identity: bool = True) -> tuple[MaskMaker, str]:
    """Masks v2 from a donor bank (default the shipped ``models/donors.json``) as ``imn protect``
    draws them: one of the 8 donors farthest by the identity encoder among those of the face's
    apparent sex; ``by_identity=False``: any donor, as a bundle without the identity graph draws.
    Repeatable (``seed``). Returns the maker and a line that says all this."""
    from imn_export.donors.bank import manifest_entry, read_bank
    from imn_export.weights import MODELS_DIR, load_identity_encoder

    bank = Path(folder or MODELS_DIR)
    entry = manifest_entry(bank)
    encoder = load_identity_encoder() if by_identity else None
    make = donor_masks(read_bank(bank), seed=seed, encoder=encoder, sex=entry.get("sex"), bank=entry)
    rule = ("any donor" if encoder is None else "one of the 8 farthest by identity"
            + (" of its apparent sex" if "sex" in entry else ""))
    size_mb = (bank / entry["file"]).stat().st_size / 1e6
    return make, (f"donors ({bank.name}/donors.json: {entry['count']} donors, {size_mb:.2f} MB added to a "
                  f"bundle; each face draws {rule}, seed {seed})")


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


def masknet_masks(masknet: MaskNet, replacements: list[Replacement],
                  device: torch.device | str = "cpu") -> MaskMaker:
    """The paper's Mask-net: face i gets preset ``i mod K``."""
    def make(face: np.ndarray, i: int) -> tuple[np.ndarray, dict]:
        return make_mask(masknet, face, replacements[i % len(replacements)].vector, device), \
            {"replacement": i % len(replacements)}
    return make


def evaluate_privacy(make: MaskMaker, hiding: HidingNetwork, paths: list[Path], judge: DlibJudge,
                     generator: str, replacements: list[Replacement] | None = None,
                     aux_kind: str = "zeros", aux_std: float = 1.0, device: torch.device | str = "cpu",
                     figure: str | Path | None = None, figure_count: int = 12,
                     progress: bool = True) -> dict:
    """Judge ``make``'s Masks of the faces at ``paths`` (aligned crops). With ``replacements``
    (Mask-net) identity transfer is reported too. Returns the rates, means and per-image rows."""
    if len(paths) < 100:
        raise ValueError(f"re-identification needs >= 100 candidate faces, got {len(paths)}")
    readings: dict[str, list[FaceReading]] = {"protected": [], "mask": [], "masked": [], "recovered": []}
    rows, figure_rows, mask_seconds = [], [], []
    with tempfile.TemporaryDirectory(prefix="imn-privacy-") as tmp:
        for i, path in enumerate(tqdm(paths, desc="eval-privacy", unit="face", disable=not progress)):
            protected = read_rgb(path)
            start = time.perf_counter()
            mask, source = make(protected, i)
            mask_seconds.append(time.perf_counter() - start)
            result = hide_reveal_png(hiding, protected, mask, Path(tmp) / "masked.png", aux_kind,
                                     aux_std, device)
            images = {"protected": protected, "mask": mask, "masked": result["masked"],
                      "recovered": result["recovered"]}
            for key, image in images.items():
                readings[key].append(judge.read(image))
            rows.append({"protected": path.name, **source,
                         "recovered": image_metrics(protected, result["recovered"]),
                         "masked": image_metrics(mask, result["masked"])})
            if len(figure_rows) < figure_count:
                figure_rows.append([protected, mask, result["masked"], result["recovered"]])
    if figure and figure_rows:
        write_png(figure, image_grid(figure_rows, ("protected", "Mask", "shared (masked PNG)",
                                                   "recovered")))

    descriptors = {k: np.stack([r.descriptor for r in v]) for k, v in readings.items()}
    gallery, mask_d = descriptors["protected"], descriptors["mask"]
    to_protected = np.linalg.norm(mask_d - gallery, axis=1)
    masked_to_protected = np.linalg.norm(descriptors["masked"] - gallery, axis=1)
    errors = np.array([landmark_error(m, p) for m, p in zip(readings["mask"], readings["protected"])])
    for row, e, dp in zip(rows, errors, to_protected):
        row.update(landmark_error=float(e), dlib_distance_to_protected=float(dp))
    n, same = len(paths), DlibJudge.SAME_PERSON_DISTANCE
    counts = {
        "same_person_mask": int((to_protected < same).sum()),
        "same_person_masked": int((masked_to_protected < same).sum()),
        "reidentification_mask": int(nearest_is_self(mask_d, gallery).sum()),
        "reidentification_masked": int(nearest_is_self(descriptors["masked"], gallery).sum()),
        "reidentification_recovered": int(nearest_is_self(descriptors["recovered"], gallery).sum()),
        "one_face_detected": int(sum(r.faces == 1 for r in readings["mask"])),
        "one_face_detected_protected": int(sum(r.faces == 1 for r in readings["protected"])),
    }
    rates = {"candidates": n, **{k: v / n for k, v in counts.items()},
             "landmark_error": float(errors.mean()),
             "landmark_error_within_5pct": float((errors <= 0.05).mean()),
             "mean_dlib_distance_mask_to_protected": float(to_protected.mean())}
    intervals = {k: wilson(v, n) for k, v in counts.items()}
    if replacements:
        repl = np.stack([replacements[i % len(replacements)].descriptor for i in range(n)])
        to_replacement = np.linalg.norm(mask_d - repl, axis=1)
        rates["identity_transfer"] = float((to_replacement < to_protected).mean())
        rates["mean_dlib_distance_mask_to_replacement"] = float(to_replacement.mean())
    return {"n": n, "generator": generator, "judge": judge.weights_note, "counts": counts,
            "rates": rates, "intervals_95": intervals, "goals": GOALS,
            "mask_ms_per_face": {"median": float(np.median(mask_seconds) * 1000),
                                 "mean": float(np.mean(mask_seconds) * 1000)},
            "mean": {"recovered": mean_metrics([r["recovered"] for r in rows]),
                     "masked": mean_metrics([r["masked"] for r in rows])},
            "images": rows}


def format_privacy(results: dict) -> str:
    r, g, ci, c = results["rates"], results["goals"], results["intervals_95"], results["counts"]
    n = results["n"]

    def rate(key: str) -> str:
        low, high = ci[key]
        return f"{r[key]:7.2%} ({c[key]}/{n}; 95% {low:.1%}-{high:.1%})"
    lines = [f"{n} real faces, Masks by {results['generator']}, judged by {results['judge']}",
             f"  same person as the protected face (dlib < 0.6), Mask    {rate('same_person_mask')}  goal <= {g['same_person_mask']:.0%}",
             f"  same person, shared masked photo                       {rate('same_person_masked')}",
             f"  rank-1 re-identification among {n}, Mask               {rate('reidentification_mask')}  goal <= {g['reidentification_mask']:.0%}; chance {1 / n:.2%}",
             f"  rank-1 re-identification, masked                       {rate('reidentification_masked')}",
             f"  rank-1 re-identification, recovered (authorised view)  {rate('reidentification_recovered')}",
             f"  exactly one face found in the Mask                     {rate('one_face_detected')}  goal >= {g['one_face_detected']:.0%}; protected {r['one_face_detected_protected']:.1%}",
             f"  5-landmark shift, share of face width                  {r['landmark_error']:7.2%}  goal <= {g['landmark_error']:.0%}; {r['landmark_error_within_5pct']:.1%} of faces within"]
    if "identity_transfer" in r:
        lines.append(f"  identity transfer (Mask nearer the replacement)        {r['identity_transfer']:7.2%}")
    m = results["mean"]
    lines.append(f"  recovered PSNR/SSIM {m['recovered']['psnr']:.2f} dB / {m['recovered']['ssim']:.4f} "
                 f"(goal >= {g['recovered_psnr']}); masked vs Mask {m['masked']['psnr']:.2f} dB / "
                 f"{m['masked']['ssim']:.4f} (goal >= {g['masked_psnr']}); 8-bit PNG")
    lines.append(f"  Mask generation {results['mask_ms_per_face']['median']:.1f} ms per face (median; goal <= {g['mask_ms']:.0f})")
    if c["same_person_mask"] == 0:
        lines.append(f"  0 of {n} is not a rate of 0%: the interval's upper end is what {n} faces can show")
    return "\n".join(lines)
