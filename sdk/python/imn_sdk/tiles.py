"""Hidden regions: whole tiles of the hiding graph's size, placed over each face and merged when
they overlap, so hiding runs at the photo's native resolution with static graph shapes."""

from __future__ import annotations

import math

from imn_sdk.errors import ImageTooSmall

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)


def _span(low: float, high: float, limit: int, tile: int) -> tuple[int, int]:
    tiles = max(1, math.ceil((high - low) / tile))
    length = min(tiles, limit // tile) * tile
    start = int(round((low + high) / 2 - length / 2))
    start = min(max(start, 0), limit - length)
    return start, start + length


def snap(box: Box, width: int, height: int, tile: int) -> Box:
    """The smallest whole-tile box around ``box`` (as far as the photo allows), inside the photo."""
    if width < tile or height < tile:
        raise ImageTooSmall(f"the photo is {width}x{height}; hiding needs at least {tile}x{tile} pixels")
    x0, x1 = _span(box[0], box[2], width, tile)
    y0, y1 = _span(box[1], box[3], height, tile)
    return x0, y0, x1, y1


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def merge(boxes: list[Box], width: int, height: int, tile: int) -> list[Box]:
    """Snap every box, then join overlapping ones until none overlap (a face's blend must lie in
    one region)."""
    regions = [snap(b, width, height, tile) for b in boxes]
    merged = True
    while merged:
        merged = False
        for i in range(len(regions)):
            for j in range(i + 1, len(regions)):
                if _overlap(regions[i], regions[j]):
                    a, b = regions[i], regions.pop(j)
                    regions[i] = snap((min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]),
                                       max(a[3], b[3])), width, height, tile)
                    merged = True
                    break
            if merged:
                break
    return sorted(regions, key=lambda r: (r[1], r[0]))


def tile_origins(region: Box, tile: int) -> list[tuple[int, int]]:
    """Top-left corners of the region's tiles, row by row."""
    return [(x, y) for y in range(region[1], region[3], tile) for x in range(region[0], region[2], tile)]
