import numpy as np
import pytest

from imn_sdk.errors import ImageTooSmall
from imn_sdk.tiles import MARGIN, fits, merge, snap, tile_layout


def test_snap_gives_whole_tiles_inside_the_photo():
    for margin in (0, 16):
        for box in [(10, 10, 50, 50), (0, 0, 300, 90), (250, 180, 330, 240)]:
            x0, y0, x1, y1 = snap(box, 320, 240, 64, margin)
            assert fits(x1 - x0, 64, margin) and fits(y1 - y0, 64, margin)
            assert 0 <= x0 < x1 <= 320 and 0 <= y0 < y1 <= 240


def test_snap_covers_the_box_when_the_photo_allows():
    for margin in (0, 16):
        x0, y0, x1, y1 = snap((100, 40, 230, 150), 1000, 1000, 64, margin)
        assert x0 <= 100 and y0 <= 40 and x1 >= 230 and y1 >= 150


def test_snap_with_a_margin_is_tile_plus_pitches():
    # A 600-px face at 256-px tiles and a 16-px margin: 256 + 2 * 224 = 704 (three tiles a side,
    # as edge to edge: 768).
    x0, y0, x1, y1 = snap((1000, 1000, 1600, 1600), 4000, 3000, 256, MARGIN)
    assert (x1 - x0, y1 - y0) == (704, 704)
    assert snap((1000, 1000, 1600, 1600), 4000, 3000, 256) == (916, 916, 1684, 1684)


def test_overlapping_regions_merge():
    regions = merge([(10, 10, 60, 60), (50, 50, 100, 100), (400, 400, 450, 450)], 640, 640, 64)
    assert len(regions) == 2


def test_photo_smaller_than_a_tile_is_refused():
    with pytest.raises(ImageTooSmall, match="at least 64x64"):
        snap((0, 0, 10, 10), 63, 200, 64)


def test_odd_or_too_wide_margins_are_refused():
    for margin in (3, 32, -2):
        with pytest.raises(ValueError, match="margin"):
            snap((0, 0, 10, 10), 200, 200, 64, margin)


def test_edge_to_edge_layout_is_the_tiles_themselves():
    layout = tile_layout((64, 0, 192, 128), 64)
    assert [(x, y) for x, y, _ in layout] == [(64, 0), (128, 0), (64, 64), (128, 64)]
    assert all(core == (x, y, x + 64, y + 64) for x, y, core in layout)


@pytest.mark.parametrize("region", [(0, 0, 256, 256), (10, 20, 266 + 224, 20 + 256 + 2 * 224)])
def test_cores_tile_the_region_once_and_stay_off_shared_edges(region):
    """Every pixel of the region is written by exactly one tile, from inside that tile, at least
    ``MARGIN`` px from any edge it shares with another tile; origins sit on even offsets (the
    Haar transform's grid)."""
    x0, y0, x1, y1 = region
    count = np.zeros((y1 - y0, x1 - x0), int)
    for x, y, (cx0, cy0, cx1, cy1) in tile_layout(region, 256, MARGIN):
        assert x0 <= x <= cx0 < cx1 <= x + 256 <= x1 and y0 <= y <= cy0 < cy1 <= y + 256 <= y1
        assert (x - x0) % 2 == 0 and (y - y0) % 2 == 0
        assert cx0 == x0 or cx0 - x >= MARGIN
        assert cx1 == x1 or x + 256 - cx1 >= MARGIN
        assert cy0 == y0 or cy0 - y >= MARGIN
        assert cy1 == y1 or y + 256 - cy1 >= MARGIN
        count[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0] += 1
    assert (count == 1).all()


def test_a_region_of_another_layout_is_refused():
    with pytest.raises(ValueError, match="not whole"):
        tile_layout((0, 0, 512, 256), 256, MARGIN)
