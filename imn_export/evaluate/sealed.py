"""``imn eval-sealed``: what an attacker with the app (the bundle, so the public reveal graph) and
a protected photo, but no key, gets of the person, sealed against keyless, judged by dlib.

For each real face (a 256-px photo, one hiding tile) the SDK protects the photo twice with the
same donor: sealed (a fresh random key) and keyless. The attacker's readings are the masked
photo itself and the reveal graph run on its pixels; the keyless photo's reveal is what anyone
gets from a keyless photo. dlib's same-person rate (distance < 0.6 to the original) and PSNR to
the original are reported with Wilson 95% intervals; the sealed photo's reveal should be no
closer to the person than its Mask. As a control, each reading is also compared with the next
face's original (another person): a degraded image that dlib calls "the same person" as often
for strangers as for its own face says nothing about who it is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from imn_export.evaluate.hiding import image_grid
from imn_export.evaluate.privacy import wilson
from imn_export.identity.teacher import DlibJudge
from imn_export.io import read_rgb
from imn_export.metrics import image_metrics

READINGS = ("sealed_masked", "sealed_revealed", "keyless_masked", "keyless_revealed")


def evaluate_sealed(bundle, paths: list[Path], figure_rows: int = 6, progress: bool = True) -> dict:
    from imn_sdk import NoFaceFound, Secret, generate_key, protect, recover

    judge = DlibJudge()
    rows, grid, undetected, originals, readings = [], [], [], [], []
    for path in tqdm(paths, desc="eval-sealed", unit="face", disable=not progress):
        face = read_rgb(path)
        if face.shape[:2] != (bundle.size, bundle.size):
            raise ValueError(f"{path}: eval-sealed takes {bundle.size}-px faces (one hiding tile)")
        donor = bundle.choose_donor(face)
        try:
            sealed = protect(face, bundle, secret=Secret(key=generate_key()), donor=donor)
        except NoFaceFound:  # nothing protected, nothing to attack: counted apart
            undetected.append(path.name)
            continue
        keyless = protect(face, bundle, keyless=True, donor=donor)
        images = {"sealed_masked": sealed.rgb, "sealed_revealed": bundle.reveal(sealed.rgb),  # one tile
                  "keyless_masked": keyless.rgb,
                  "keyless_revealed": recover(_png(keyless), bundle).rgb}
        original = judge.read(face).descriptor
        originals.append(original)
        readings.append({})
        row = {"face": path.name, "donor": donor, "sealed_bytes": len(sealed.sealed)}
        for name, image in images.items():
            reading = judge.read(image)
            readings[-1][name] = reading.descriptor
            distance = float(np.linalg.norm(reading.descriptor - original))
            row[name] = {"dlib_distance": distance, "same_person": distance < DlibJudge.SAME_PERSON_DISTANCE,
                         "faces_found": reading.faces, "psnr": image_metrics(face, image)["psnr"]}
        rows.append(row)
        if len(grid) < figure_rows:
            grid.append([face, *images.values()])
    n = len(rows)
    summary = {}
    for name in READINGS:
        hits = sum(r[name]["same_person"] for r in rows)
        strangers = sum(np.linalg.norm(readings[i][name] - originals[(i + 1) % n]) < DlibJudge.SAME_PERSON_DISTANCE
                        for i in range(n))
        summary[name] = {"same_person": hits, "same_person_rate": hits / n, "same_person_95": wilson(hits, n),
                         "stranger_same_person": int(strangers), "stranger_same_person_95": wilson(int(strangers), n),
                         "mean_psnr": float(np.mean([r[name]["psnr"] for r in rows])),
                         "max_psnr": float(np.max([r[name]["psnr"] for r in rows])),
                         "mean_dlib_distance": float(np.mean([r[name]["dlib_distance"] for r in rows]))}
    revealed_closer = sum(r["sealed_revealed"]["psnr"] > r["sealed_masked"]["psnr"] for r in rows)
    return {"n": n, "not_detected": undetected, "judge": judge.weights_note, "summary": summary,
            "sealed_reveal_closer_than_mask": revealed_closer, "rows": rows,
            "figure": image_grid(grid, ("original", "sealed: shared", "sealed: reveal graph",
                                        "keyless: shared", "keyless: reveal graph")) if grid else None}


def _png(result) -> bytes:
    """The keyless photo as the PNG people share (recover reads what was written)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return Path(result.save(Path(tmp) / "k.png")).read_bytes()


def format_sealed(results: dict) -> str:
    lines = [f"{results['n']} real faces protected ({len(results['not_detected'])} more had no face found), "
             "dlib same-person (distance < 0.6) and PSNR to the original:"]
    for name in READINGS:
        s = results["summary"][name]
        low, high = s["same_person_95"]
        lines.append(f"  {name:17s} same person {s['same_person']:3d}/{results['n']} = {s['same_person_rate']:6.1%} "
                     f"(95% {low:.1%}-{high:.1%}; another person's face: {s['stranger_same_person']}/{results['n']})  "
                     f"PSNR mean {s['mean_psnr']:5.2f} max {s['max_psnr']:5.2f} dB  "
                     f"dlib distance {s['mean_dlib_distance']:.3f}")
    lines.append(f"  sealed photos whose reveal is closer to the face than their Mask: "
                 f"{results['sealed_reveal_closer_than_mask']} of {results['n']}")
    return "\n".join(lines)
