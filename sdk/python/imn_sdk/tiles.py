"""Hidden regions: tiles of the hiding graph's size, placed over each face and merged when they
overlap, so hiding runs at the photo's native resolution with static graph shapes.

Neighbouring tiles of a keyless photo overlap by ``2 * margin`` pixels and each keeps only its
*core*, the part at least ``margin`` pixels from every edge it shares with another tile. The
hiding network hides and reveals a tile's outermost pixels worse than its interior (it pads
with zeros there), so tiles laid edge to edge left faint lines 256 px apart in recovered faces
(issue #16); with a 16-px margin the pixels along the cuts recover as well as the interior.
Hide and reveal must use the same layout: a reveal tile offset from its hide tile, even by one
pixel, recovers noise (so the margin is recorded in the photo, sdk/spec/photo.md §4)."""

from __future__ import annotations

import math

from imn_sdk.errors import ImageTooSmall

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)

MARGIN = 16  # keyless photos (format 3); 0 for sealed regions and the photos of format 1


def _pitch(tile: int, margin: int) -> int:
    if margin < 0 or margin % 2 or 2 * margin >= tile:
        # Even: tile origins stay on the Haar transform's 2-px grid, as at hide time.
        raise ValueError(f"tile margin {margin} must be even and below half the tile {tile}")
    return tile - 2 * margin


def _span(low: float, high: float, limit: int, tile: int, margin: int) -> tuple[int, int]:
    pitch = _pitch(tile, margin)
    tiles = max(1, 1 + math.ceil((high - low - tile) / pitch))
    length = tile + (min(tiles, 1 + (limit - tile) // pitch) - 1) * pitch
    start = int(round((low + high) / 2 - length / 2))
    start = min(max(start, 0), limit - length)
    return start, start + length


def snap(box: Box, width: int, height: int, tile: int, margin: int = 0) -> Box:
    """The smallest region of whole tiles around ``box`` (as far as the photo allows), inside the
    photo: ``tile + k * (tile - 2 * margin)`` pixels along each axis."""
    if width < tile or height < tile:
        raise ImageTooSmall(f"the photo is {width}x{height}; hiding needs at least {tile}x{tile} pixels")
    x0, x1 = _span(box[0], box[2], width, tile, margin)
    y0, y1 = _span(box[1], box[3], height, tile, margin)
    return x0, y0, x1, y1


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def merge(boxes: list[Box], width: int, height: int, tile: int, margin: int = 0) -> list[Box]:
    """Snap every box, then join overlapping ones until none overlap (a face's blend must lie in
    one region)."""
    regions = [snap(b, width, height, tile, margin) for b in boxes]
    merged = True
    while merged:
        merged = False
        for i in range(len(regions)):
            for j in range(i + 1, len(regions)):
                if _overlap(regions[i], regions[j]):
                    a, b = regions[i], regions.pop(j)
                    regions[i] = snap((min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]),
                                       max(a[3], b[3])), width, height, tile, margin)
                    merged = True
                    break
            if merged:
                break
    return sorted(regions, key=lambda r: (r[1], r[0]))


def fits(length: int, tile: int, margin: int) -> bool:
    """Whether a region side of ``length`` pixels is whole tiles of this layout."""
    return length >= tile and (length - tile) % _pitch(tile, margin) == 0


def _axis(start: int, end: int, tile: int, margin: int) -> list[tuple[int, int, int]]:
    """(origin, core start, core end) of each tile along one axis of a region."""
    if not fits(end - start, tile, margin):
        raise ValueError(f"a region side of {end - start} px is not whole {tile}-px tiles with margin {margin}")
    origins = list(range(start, end - tile + 1, _pitch(tile, margin)))
    cuts = [start] + [o + margin for o in origins[1:]] + [end]
    return [(o, cuts[i], cuts[i + 1]) for i, o in enumerate(origins)]


def tile_layout(region: Box, tile: int, margin: int = 0) -> list[tuple[int, int, Box]]:
    """Each tile of ``region`` as ``(x, y, core)``, row by row: the tile is the ``tile``-px
    square at ``(x, y)``, and ``core`` (absolute, exclusive) is the part of it written back."""
    xs, ys = _axis(region[0], region[2], tile, margin), _axis(region[1], region[3], tile, margin)
    return [(x, y, (cx0, cy0, cx1, cy1)) for y, cy0, cy1 in ys for x, cx0, cx1 in xs]
