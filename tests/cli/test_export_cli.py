import pytest

from imn_export.cli.export import main


def test_help_lists_targets_and_pairs(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out.replace("\n", " ")
    assert "coreml" in out and "tflite:int8" in out


def test_unknown_target_is_a_clear_error(capsys):
    assert main(["--target", "tensorrt"]) == 2
    assert "unknown target 'tensorrt'" in capsys.readouterr().err


def test_unsupported_pair_lists_supported_ones(capsys):
    assert main(["--target", "tflite", "--precision", "fp16"]) == 2
    err = capsys.readouterr().err
    assert "tflite:fp16 is not a supported" in err and "coreml:fp16" in err


def test_odd_size_is_refused_before_any_export(tmp_path, capsys):
    assert main(["--target", "onnx", "--size", "33", "--out", str(tmp_path / "b")]) == 2
    assert "even" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_unknown_graph_is_a_clear_error(tmp_path, capsys):
    assert main(["--target", "onnx", "--graphs", "detector", "--out", str(tmp_path / "b")]) == 2
    assert "unknown graph detector" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
