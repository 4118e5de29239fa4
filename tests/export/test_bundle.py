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
