"""``imn eval-keys``: keyed recovery measured on real faces (issue #6).

For each face: the Mask from Mask-net (preset i mod K), then
- keyless: the keyless hiding network hides the face; 8-bit PNG; reveal;
- keyed: the keyed network hides with a fresh random key the way the SDK does
  (``sdk/spec/photo.md`` §7): the key scrambles the cover (``"cover"``) or the face (``"face"``);
  8-bit PNG; reveal with the right key, and with ``wrong_tries`` other random keys.
Reports recovered PSNR (keyless, right key, wrong keys), masked-vs-Mask PSNR for both networks
and, with dlib's judge, re-identification of the protected person from the wrong-key outputs
among all the faces.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from imn_export.evaluate.hiding import hide_reveal_png, image_grid
from imn_export.evaluate.privacy import make_mask, nearest_is_self
from imn_export.io import read_rgb, to_tensor, to_uint8, write_png
from imn_export.nn.auxiliary import sample_aux
from imn_export.metrics import image_metrics, mean_metrics
from imn_sdk import keys

GOALS = {"right_key_drop_db": 1.0, "wrong_key_psnr_max": 15.0, "reidentification_wrong_key": 0.02,
         "masked_drop_db": 1.0}


def sdk_tile_scramble(size: int, piece: int) -> tuple[np.ndarray, np.ndarray]:
    """A scramble drawn the way the SDK draws one: a new 256-bit key, HKDF per photo and tile."""
    secret = keys.Secret(key=keys.generate_key())
    _, photo_key = keys.new_key_record(secret, piece)
    return keys.tile_scramble(photo_key, 0, 0, 0, (size // piece) ** 2)


def scrambles_of(meta: dict) -> str:
    """What the SDK scrambles with these weights (``sdk/spec/photo.md`` §7): what they were
    trained on (checkpoints from before ``key_target`` scrambled faces), else the cover."""
    return keys.scrambles_for(meta.get("config") or {})


def keyed_hide(net, protected: np.ndarray, mask: np.ndarray, scramble: tuple[np.ndarray, np.ndarray],
               piece: int, scrambles: str, png: Path, device="cpu") -> dict[str, np.ndarray]:
    """One keyed tile ``(S, S, 3)`` uint8 through an 8-bit PNG, as the SDK makes it: the masked
    tile and the face revealed with the right key."""
    if scrambles == "cover":
        # A PNG stores pixels exactly, so unscrambling after it equals unscrambling before it.
        out = hide_reveal_png(net, protected, keys.scramble(mask, *scramble, piece), png, device=device)
        return {"masked": keys.unscramble(out["masked"], *scramble, piece), "recovered": out["recovered"]}
    out = hide_reveal_png(net, keys.scramble(protected, *scramble, piece), mask, png, device=device)
    return {"masked": out["masked"], "recovered": keys.unscramble(out["recovered"], *scramble, piece)}


def reveal_tile(net, masked: np.ndarray, device="cpu") -> np.ndarray:
    """The network's reveal of a ``(S, S, 3)`` uint8 tile, with no key: what anyone who has the
    app's network gets."""
    x = to_tensor(masked).to(device)
    with torch.no_grad():
        return to_uint8(net.reveal(x, sample_aux(x))[0])


def keyed_reveal(net, masked: np.ndarray, scramble: tuple[np.ndarray, np.ndarray], piece: int,
                 scrambles: str, device="cpu") -> np.ndarray:
    """What revealing a keyed tile ``(S, S, 3)`` uint8 with ``scramble``'s key gives."""
    if scrambles == "cover":
        return reveal_tile(net, keys.scramble(masked, *scramble, piece), device)
    return keys.unscramble(reveal_tile(net, masked, device), *scramble, piece)


def evaluate_keys(keyless, keyed, masknet, presets: np.ndarray, paths: list[Path], judge=None,
                  wrong_tries: int = 1, piece: int = keys.PIECE, device="cpu", progress: bool = True,
                  figure: str | Path | None = None, scrambles: str = "cover") -> dict:
    rows, wrong_images, figure_rows = [], [], []
    with tempfile.TemporaryDirectory(prefix="imn-keys-") as tmp:
        png = Path(tmp) / "masked.png"
        for i, path in enumerate(tqdm(paths, desc="eval-keys", unit="face", disable=not progress)):
            protected = read_rgb(path)
            size = protected.shape[0]
            with torch.no_grad():
                mask = make_mask(masknet, protected, presets[i % len(presets)], device)
                plain = hide_reveal_png(keyless, protected, mask, png, device=device)
                hidden = keyed_hide(keyed, protected, mask, sdk_tile_scramble(size, piece), piece,
                                    scrambles, png, device)
            right = hidden["recovered"]
            wrongs = [keyed_reveal(keyed, hidden["masked"], sdk_tile_scramble(size, piece), piece,
                                   scrambles, device) for _ in range(wrong_tries)]
            no_key = reveal_tile(keyed, hidden["masked"], device)
            rows.append({"protected": path.name,
                         "keyless_recovered": image_metrics(protected, plain["recovered"]),
                         "right_key_recovered": image_metrics(protected, right),
                         "wrong_key_recovered": [image_metrics(protected, w) for w in wrongs],
                         "no_key_recovered": image_metrics(protected, no_key),
                         "keyless_masked": image_metrics(mask, plain["masked"]),
                         "keyed_masked": image_metrics(mask, hidden["masked"])})
            wrong_images.append(wrongs[0])
            if len(figure_rows) < 6:
                figure_rows.append([protected, mask, hidden["masked"], right, wrongs[0], no_key])
            if judge is not None:
                rows[-1]["_descriptors"] = (judge.read(protected).descriptor,
                                            [judge.read(w) for w in [*wrongs, no_key]])
    if figure and figure_rows:
        write_png(figure, image_grid(figure_rows, ("protected", "Mask", "masked (keyed)",
                                                   "right key", "wrong key", "no key")))
    wrong_psnr = np.array([m["psnr"] for r in rows for m in r["wrong_key_recovered"]])
    result = {
        "n": len(rows), "wrong_tries": int(wrong_psnr.size), "piece": piece, "scrambles": scrambles,
        "goals": GOALS,
        "mean": {key: mean_metrics([r[key] for r in rows]) for key in
                 ("keyless_recovered", "right_key_recovered", "no_key_recovered", "keyless_masked",
                  "keyed_masked")},
        "wrong_key_psnr": {"mean": float(wrong_psnr.mean()), "max": float(wrong_psnr.max()),
                           "p99": float(np.percentile(wrong_psnr, 99))},
    }
    if judge is not None:
        gallery = np.stack([r["_descriptors"][0] for r in rows])
        hits, faces_found = [], []
        for t in range(wrong_tries):
            query = np.stack([r["_descriptors"][1][t].descriptor for r in rows])
            hits.append(nearest_is_self(query, gallery))
            faces_found.append([r["_descriptors"][1][t].faces > 0 for r in rows])
        result["reidentification_wrong_key"] = float(np.mean(hits))
        result["face_detected_in_wrong_key_output"] = float(np.mean(faces_found))
        no_key = [r["_descriptors"][1][wrong_tries] for r in rows]
        result["reidentification_no_key"] = float(np.mean(nearest_is_self(np.stack([d.descriptor for d in no_key]), gallery)))
        result["face_detected_in_no_key_output"] = float(np.mean([d.faces > 0 for d in no_key]))
        result["judge"] = judge.weights_note
        for r in rows:
            del r["_descriptors"]
    result["images"] = rows
    return result


def format_keys(r: dict) -> str:
    m = r["mean"]
    lines = [f"{r['n']} real faces, {r['wrong_tries']} wrong-key tries, the key scrambles the "
             f"{r.get('scrambles', 'face')} in pieces of {r['piece']} px",
             f"  recovered, keyless network        {m['keyless_recovered']['psnr']:6.2f} dB / SSIM {m['keyless_recovered']['ssim']:.4f}",
             f"  recovered, keyed, right key       {m['right_key_recovered']['psnr']:6.2f} dB / SSIM {m['right_key_recovered']['ssim']:.4f}  (goal: within 1 dB of keyless)",
             f"  recovered, keyed, wrong key       {r['wrong_key_psnr']['mean']:6.2f} dB mean, {r['wrong_key_psnr']['max']:.2f} max  (goal <= 15 dB)",
             f"  recovered, keyed, no key          {m['no_key_recovered']['psnr']:6.2f} dB (the network's reveal, key ignored)",
             f"  masked vs Mask, keyless / keyed   {m['keyless_masked']['psnr']:6.2f} / {m['keyed_masked']['psnr']:.2f} dB  (goal: within 1 dB)"]
    if "reidentification_wrong_key" in r:
        lines.append(f"  re-identification from wrong-key outputs {r['reidentification_wrong_key']:.2%} "
                     f"(goal <= 2%; chance {1 / r['n']:.2%}); dlib finds a face in "
                     f"{r['face_detected_in_wrong_key_output']:.1%} of them")
        lines.append(f"  re-identification from no-key outputs    {r['reidentification_no_key']:.2%}; dlib finds "
                     f"a face in {r['face_detected_in_no_key_output']:.1%} of them")
    return "\n".join(lines)
