import math

from imn_export.photo_bench import _rss_mb, format_photo_bench


def _result(before):
    stages = {"read": 0.1, "detect": 0.2, "mask": 0.3, "hide": 1.5, "write": 0.5}
    return {"faces": 1, "found": 1, "tiles": 6, "protect_s": stages, "protect_total_s": 2.6,
            "recover_s": {"read": 0.1, "reveal": 1.5, "write": 0.5}, "recover_total_s": 2.1,
            "rss_after_load_mb": 300.0, "rss_before_protect_mb": before, "peak_rss_mb": 900.0}


def test_table_has_a_row_per_case_with_memory_columns():
    table = format_photo_bench([_result(316.0), _result(None)])
    lines = table.splitlines()
    assert "load / before / peak" in lines[0] and len(lines) == 3
    assert lines[1].endswith("300 / 316 / 900")
    assert lines[2].endswith("300 / nan / 900")  # before unknown where /proc is missing


def test_peak_memory_is_positive_and_finite():
    peak = _rss_mb()
    assert 0 < peak < math.inf
