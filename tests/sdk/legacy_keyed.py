"""Keyed photos as releases before sealed mode wrote them (sdk/spec/photo.md §8: format 1,
``"keyed": true``, the cover or the face scrambled by the key around the hiding network).
``protect`` no longer writes them; every SDK must still recover them, so the tests make them
here, from the same primitives the old writer used."""

from __future__ import annotations

import numpy as np

from imn_sdk import keys, metadata, protect, tiles
from imn_sdk.pipeline import ProtectedImage, _tile_scramble


def protect_keyed(rgb: np.ndarray, bundle, secret: keys.Secret, scrambles: str = "cover",
                  donor: int = 0) -> ProtectedImage:
    """A keyed photo of ``rgb``: the keyless photo's regions and faces, each tile hidden again
    with the key's scramble, the keyless masked tile standing in for the cover (recovery only
    needs the masked pixels and the key)."""
    keyless = protect(rgb, bundle, keyless=True, donor=donor)
    key_record, photo_key = keys.new_key_record(secret, scrambles=scrambles)
    out, size = keyless.rgb.copy(), bundle.size
    for k, r in enumerate(keyless.record["regions"]):
        box = (r["x"], r["y"], r["x"] + r["width"], r["y"] + r["height"])
        for x, y in tiles.tile_origins(box, size):
            original, cover = rgb[y:y + size, x:x + size], keyless.rgb[y:y + size, x:x + size]
            scramble = _tile_scramble(photo_key, k, x, y, size)
            if scrambles == "cover":
                masked = keys.unscramble(bundle.hide(original, keys.scramble(cover, *scramble)), *scramble)
            else:
                masked = bundle.hide(keys.scramble(original, *scramble), cover)
            out[y:y + size, x:x + size] = masked
    record = {**keyless.record, "keyed": True, "key": key_record,
              "digest": metadata.pixel_digest(out, keyless.record["regions"])}
    return ProtectedImage(out, keyless.alpha, record, keyless.faces)
