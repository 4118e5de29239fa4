import pytest

from imn_sdk.errors import ImageTooSmall
from imn_sdk.tiles import merge, snap, tile_origins


def test_snap_gives_whole_tiles_inside_the_photo():
    for box in [(10, 10, 50, 50), (0, 0, 300, 90), (250, 180, 330, 240)]:
        x0, y0, x1, y1 = snap(box, 320, 240, 64)
        assert (x1 - x0) % 64 == 0 and (y1 - y0) % 64 == 0
        assert 0 <= x0 < x1 <= 320 and 0 <= y0 < y1 <= 240


def test_snap_covers_the_box_when_the_photo_allows():
    x0, y0, x1, y1 = snap((100, 40, 230, 150), 1000, 1000, 64)
    assert x0 <= 100 and y0 <= 40 and x1 >= 230 and y1 >= 150


def test_overlapping_regions_merge():
    regions = merge([(10, 10, 60, 60), (50, 50, 100, 100), (400, 400, 450, 450)], 640, 640, 64)
    assert len(regions) == 2


def test_photo_smaller_than_a_tile_is_refused():
    with pytest.raises(ImageTooSmall, match="at least 64x64"):
        snap((0, 0, 10, 10), 63, 200, 64)


def test_tile_origins_cover_the_region():
    assert tile_origins((64, 0, 192, 128), 64) == [(64, 0), (128, 0), (64, 64), (128, 64)]
