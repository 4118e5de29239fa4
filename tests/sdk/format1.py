"""Photos as releases before issue #16 wrote them (sdk/spec/photo.md §4 and §8: format 1, tiles
edge to edge; keyed photos also scramble the cover or the face around the hiding network).
``protect`` no longer writes them; every SDK must still recover them, so the tests make them
here, from the same primitives the old writer used."""

from __future__ import annotations

import numpy as np

from imn_sdk import align, keys, metadata, protect, tiles
from imn_sdk.pipeline import ProtectedImage


def protect_format1(rgb: np.ndarray, bundle, secret: keys.Secret | None = None, scrambles: str = "cover",
                    donor: int = 0) -> ProtectedImage:
    """A format-1 photo of ``rgb``, keyed when ``secret`` is given: the faces of today's keyless
    photo, regions of whole tiles edge to edge, each tile hidden with today's masked pixels
    standing in for the cover (recovery only needs the masked pixels, the faces and the key)."""
    current = protect(rgb, bundle, keyless=True, donor=donor)
    size, (h, w) = bundle.size, rgb.shape[:2]
    transforms = [align.crop_transform(np.asarray(f["landmarks"]), size) for f in current.record["faces"]]
    regions = tiles.merge([align.blend_box(t, size) for t in transforms], w, h, size)
    record = {**{k: v for k, v in current.record.items() if k != "margin"}, "format": metadata.FORMAT_VERSION,
              "keyed": False, "regions": [{"x": r[0], "y": r[1], "width": r[2] - r[0], "height": r[3] - r[1]}
                                          for r in regions]}
    photo_key = None
    if secret is not None:
        record["key"], photo_key = keys.new_key_record(secret, scrambles=scrambles)
        record["keyed"] = True
    out = rgb.copy()
    for k, box in enumerate(regions):
        for x, y, _core in tiles.tile_layout(box, size):
            original, cover = rgb[y:y + size, x:x + size], current.rgb[y:y + size, x:x + size]
            if photo_key is None:
                masked = bundle.hide(original, cover)
            elif scrambles == "cover":
                scramble = tile_scramble_of(photo_key, k, x, y, size)
                masked = keys.unscramble(bundle.hide(original, keys.scramble(cover, *scramble)), *scramble)
            else:
                masked = bundle.hide(keys.scramble(original, *tile_scramble_of(photo_key, k, x, y, size)), cover)
            out[y:y + size, x:x + size] = masked
    record["digest"] = metadata.pixel_digest(out, record["regions"])
    return ProtectedImage(out, current.alpha, record, current.faces)


def protect_keyed(rgb: np.ndarray, bundle, secret: keys.Secret, scrambles: str = "cover",
                  donor: int = 0) -> ProtectedImage:
    """A keyed photo as releases before sealed mode wrote them."""
    return protect_format1(rgb, bundle, secret, scrambles, donor)


def tile_scramble_of(photo_key: bytes, region: int, x: int, y: int, size: int):
    """The key scramble of the tile at (x, y) of region ``region``, for a tile of ``size`` px."""
    return keys.tile_scramble(photo_key, region, x, y, (size // keys.PIECE) ** 2)
