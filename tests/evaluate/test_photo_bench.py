import math

from imn_export.evaluate.photo_bench import _rss_mb, format_photo_bench


def _result(before, mode="keyless"):
    stages = {"read": 0.1, "detect": 0.2, "mask": 0.3, "hide": 1.5, "write": 0.5}
    return {"mode": mode, "faces": 1, "found": 1, "tiles": 6, "protect_s": stages, "protect_total_s": 2.6,
            "recover_s": {"read": 0.1, "reveal": 1.5, "write": 0.5}, "recover_total_s": 2.1,
            "source_png_mb": 5.9, "protected_png_mb": 6.3, "sealed_mb": 0.36 if mode == "sealed" else 0.0,
            "regions_raw_mb": 1.18, "rss_after_load_mb": 300.0, "rss_before_protect_mb": before, "peak_rss_mb": 900.0}


def test_table_has_a_row_per_case_with_stages_sizes_and_memory():
    lines = format_photo_bench([_result(316.0), _result(None, "sealed")]).splitlines()
    assert len(lines) == 2 and lines[0].lstrip().startswith("keyless") and lines[1].lstrip().startswith("sealed")
    assert "hide 1.50" in lines[0] and "PNG 6.3 MB (source 5.9)" in lines[0]
    assert "sealed 0.36 MB of 1.18 MB raw" in lines[1]
    assert lines[0].endswith("300 / 316 / 900")
    assert lines[1].endswith("300 / nan / 900")  # before unknown where /proc is missing


def test_peak_memory_is_positive_and_finite():
    peak = _rss_mb()
    assert 0 < peak < math.inf
