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


def _run_quietly(args, env=None):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "imn_export.cli.export", *args], capture_output=True,
                          text=True, timeout=600, env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_export_shows_only_what_concerns_a_person(tmp_path):
    """No TracerWarnings, coremltools "Failed to load" or ONNX Runtime advice without --verbose;
    the closing table and IMN's own lines stay."""
    args = ["--precision", "fp32", "--size", "16", "--checks", "1", "--graphs", "hide,reveal",
            "--no-progress"]
    run = _run_quietly(["--target", "onnx,coreml", *args, "--out", str(tmp_path / "quiet")])
    assert run.returncode == 0, run.stderr[-3000:]
    noise = [line for line in run.stderr.splitlines() if "Warning" in line or "WARNING" in line
             or "Failed to load" in line]
    assert not noise, "\n".join(noise[:10])
    assert "graph" in run.stdout and "wrote" in run.stdout
    loud = _run_quietly(["--target", "onnx", *args, "--out", str(tmp_path / "loud"), "--verbose"])
    assert "TracerWarning" in loud.stderr


def test_native_runtime_logs_are_hidden_unless_verbose():
    """What a native runtime writes straight to file descriptor 2 (LiteRT's "INFO: Created
    TensorFlow Lite XNNPACK delegate") is hidden by the SDK, shown with IMN_VERBOSE=1."""
    import subprocess
    import sys

    code = ("import os; from imn_sdk.bundle import native_logs_hidden\n"
            "with native_logs_hidden(): os.write(2, b'INFO: native line\\n')\n"
            "os.write(2, b'after\\n')")
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert quiet.stderr == "after\n"
    import os
    loud = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "IMN_VERBOSE": "1"})
    assert loud.stderr == "INFO: native line\nafter\n"
