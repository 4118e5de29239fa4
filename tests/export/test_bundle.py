from imn_export.export.bundle import merge_artifacts, sha256_path


def test_folder_hash_is_stable_and_content_sensitive(tmp_path):
    pkg = tmp_path / "m.mlpackage"
    (pkg / "Data").mkdir(parents=True)
    (pkg / "Data" / "w.bin").write_bytes(b"abc")
    (pkg / "Manifest.json").write_text("{}")
    first = sha256_path(pkg)
    assert sha256_path(pkg) == first
    (pkg / "Data" / "w.bin").write_bytes(b"abd")
    assert sha256_path(pkg) != first


def test_merge_replaces_same_graph_target_precision_size():
    old = [{"graph": "hide", "target": "onnx", "precision": "fp32", "size": 256, "file": "old"},
           {"graph": "hide", "target": "onnx", "precision": "int8", "size": 256, "file": "keep"}]
    new = [{"graph": "hide", "target": "onnx", "precision": "fp32", "size": 256, "file": "new"}]
    assert [e["file"] for e in merge_artifacts(old, new)] == ["keep", "new"]


def test_int8_hint_points_to_the_qat_weights_only_when_recovery_missed():
    from imn_export.export.exporter import ArtifactReport, int8_weights_hint
    from imn_export.weights import MODELS_DIR, QAT_WEIGHTS_NAME

    missed = [ArtifactReport("hide", "onnx", "int8", "h.onnx", status="below threshold: recovery"),
              ArtifactReport("reveal", "onnx", "int8", "r.onnx", status="below threshold: recovery"),
              ArtifactReport("hide", "tflite", "int8", "h.tflite", status="ok")]
    hint = int8_weights_hint(missed, None)
    assert hint and "--target onnx " in hint and QAT_WEIGHTS_NAME in hint
    assert int8_weights_hint(missed, str(MODELS_DIR / QAT_WEIGHTS_NAME)) is None
    assert int8_weights_hint(missed[2:], None) is None
