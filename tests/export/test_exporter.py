"""The whole export at a small size, every target and precision, checked against the thresholds
in imn_export/export/thresholds.py (the same checks imn-export runs at 256)."""

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("coremltools")
pytest.importorskip("litert_torch")
pytest.importorskip("onnxruntime")

# The whole export of every target and precision: an end-to-end case.
pytestmark = pytest.mark.slow

from imn_export.export.bundle import read_manifest, sha256_path  # noqa: E402
from imn_export.export.exporter import ExportOptions, export_bundle, format_report  # noqa: E402
from imn_export.export.formats import FORMATS  # noqa: E402
from imn_export.export.graphs import GRAPHS, HIDING_GRAPHS  # noqa: E402

SIZE = 32
# Mask-net's int8 graphs have no QAT yet and, at 32 px (it works at 128 inside), fall below the
# int8 parity floor of 30 dB on the shared faces: measured 28.9 dB (ONNX, 7-bit weights, on CPUs
# with and without VNNI alike) and 24.9 dB (TFLite); on the scikit-image check photos used without
# the shared data they pass. At the shipped 256 px they measure 35.2 and 31.0 dB
# (models/imn-masknet.md); tests/export/test_onnx_format.py holds ONNX to 30 dB there, on an
# emulated CPU without VNNI too. Here they are held to a lower floor.
SMALL_SIZE_PARITY_FLOOR = {("masknet", "onnx", "int8"): 24.0, ("masknet", "tflite", "int8"): 24.0}
# Pairs allowed to miss a threshold at the test size; each must fail here, or the test says to
# drop it. Empty: at 32 px every hiding pair passes.
KNOWN_SHORT: set[tuple[str, str, str]] = set()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, device):
    out = tmp_path_factory.mktemp("bundle")
    options = ExportOptions(targets="all", precisions="all", size=SIZE, out=str(out),
                            device=str(device), checks=2, progress=False)
    reports, manifest = export_bundle(options, log=print)
    print(format_report(reports))
    return out, reports, json.loads(Path(manifest).read_text())


def _entries(manifest):
    return {(e["graph"], e["target"], e["precision"]): e for e in manifest["artifacts"]}


def test_every_pair_and_graph_exported(bundle):
    _, reports, manifest = bundle
    expected = {(g, f.key, p) for f in FORMATS.values() for p in f.precisions for g in GRAPHS}
    assert {(r.graph, r.target, r.precision) for r in reports} == expected
    assert not [r for r in reports if r.status == "failed"], format_report(reports)
    assert set(_entries(manifest)) == expected


@pytest.mark.parametrize("target, precision", [(f.key, p) for f in FORMATS.values() for p in f.precisions])
def test_thresholds_hold(bundle, target, precision):
    _, _, manifest = bundle
    for graph in GRAPHS:
        checks = _entries(manifest)[(graph, target, precision)]["checks"]
        floor = SMALL_SIZE_PARITY_FLOOR.get((graph, target, precision))
        if floor is not None:
            assert min(checks["parity_psnr"].values()) >= floor, checks
            continue
        if (graph, target, precision) in KNOWN_SHORT:
            if checks["passed"]:
                pytest.fail(f"{graph} {target} {precision} now passes every threshold: drop it "
                            "from KNOWN_SHORT")
            continue
        assert min(checks["parity_psnr"].values()) >= checks["parity_threshold"], checks
        assert checks["passed"], checks
        if graph not in HIDING_GRAPHS:  # Mask-net, identity: parity is their whole check
            continue
        assert checks["invertibility_max_error"] <= checks["invertibility_limit"]
        assert checks["recovered_psnr"] >= checks["reference_recovered_psnr"] - checks["recovery_drop_limit_db"]


# Mask-net's TFLite identity-injection convs stay float (litert-torch's layout pass breaks on
# AdaIN after int8 convs), so that artifact is only partly int8. Every other int8 artifact stores
# all its learned weights as int8; the rest of the file (scales, int32 biases, graph) keeps it
# under 4x: measured 2.9-3.6x at 256 px.
# The identity graph is small (1.0 MB fp32): file overhead weighs more, measured 2.70x (ONNX) and
# 2.46x (TFLite) with every conv and the head int8 (2026-11-29, 64 px; its input is 96 px always).
PARTLY_INT8 = {("masknet", "tflite"): 1.05, ("identity", "onnx"): 2.5, ("identity", "tflite"): 2.3}
INT8_SIZE_FLOOR = 2.8


def test_int8_is_smaller(bundle):
    _, _, manifest = bundle
    entries = _entries(manifest)
    for fmt in FORMATS.values():
        for graph in GRAPHS:
            ratio = entries[(graph, fmt.key, "fp32")]["bytes"] / entries[(graph, fmt.key, "int8")]["bytes"]
            floor = PARTLY_INT8.get((graph, fmt.key), INT8_SIZE_FLOOR)
            assert ratio >= floor, f"{graph} {fmt.key} int8 only {ratio:.2f}x smaller"


@pytest.mark.parametrize("graph", HIDING_GRAPHS)
def test_coreml_int8_quantizes_activations_of_rho_and_eta_only(bundle, graph):
    """Activations at the inputs of rho's and eta's convs go through int8; phi's and the Haar
    convs' stay float16 (quant_scope.py)."""
    from imn_export.export.coreml_mil import load_program

    out, _, manifest = bundle
    entry = _entries(manifest)[(graph, "coreml", "int8")]
    assert "activations int8" in entry["notes"]["quantization"]
    assert entry["notes"]["deployment_target"] == "iOS17"
    convs = [op for op in load_program(out / entry["file"]).functions["main"].operations
             if op.op_type == "conv"]

    weight = {op.name: op.inputs["weight"].op for op in convs}  # named after the torch weight
    quantized = {weight[op.name].name for op in convs if op.inputs["x"].op.op_type == "dequantize"}
    in_scope = {w.name for w in weight.values() if "_rho_" in w.name or "_eta_" in w.name}
    assert in_scope and quantized == in_scope, sorted(quantized ^ in_scope)
    # The Haar filters (constants, not parameters) keep exact float weights.
    haar = [w for w in weight.values() if not w.name.startswith("net_")]
    assert haar and all(w.op_type == "const" for w in haar), [w.op_type for w in haar]
    assert all(w.op_type == "constexpr_affine_dequantize" for w in weight.values() if w not in haar)


@pytest.mark.parametrize("graph", HIDING_GRAPHS)
def test_tflite_int8_runs_every_phi_conv_dynamic_and_stores_learned_weights_int8(bundle, graph):
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    from imn_export.nn.hiding import HidingConfig

    out, _, manifest = bundle
    entry = _entries(manifest)[(graph, "tflite", "int8")]
    config = HidingConfig()  # what the shipped default weights use
    assert entry["notes"]["dynamic_int8_convs"] == config.blocks * config.depth  # every conv of phi
    model = flatbuffer_utils.read_model(str(out / entry["file"]))
    codes = {i: max(c.builtinCode, c.deprecatedBuiltinCode) for i, c in enumerate(model.operatorCodes)}
    ops = schema.BuiltinOperator
    tensors = model.subgraphs[0].tensors
    producer = {int(t): op for op in model.subgraphs[0].operators for t in op.outputs}

    def stored_int8(index: int) -> bool:  # an int8 constant, or one dequantized on load
        if tensors[index].type == schema.TensorType.INT8:
            return True
        op = producer.get(index)
        return (op is not None and codes[op.opcodeIndex] == ops.DEQUANTIZE
                and tensors[op.inputs[0]].type == schema.TensorType.INT8)

    filters = [int(op.inputs[1]) for op in model.subgraphs[0].operators if codes[op.opcodeIndex] == ops.CONV_2D]
    float_filters = [list(tensors[i].shape) for i in filters if not stored_int8(i)]
    # Only the Haar transform's fixed 12 x 12 1x1 filters stay float32.
    assert float_filters and all(shape == [12, 1, 1, 12] for shape in float_filters), float_filters


def test_manifest_hashes_and_embedded_metadata(bundle):
    out, _, manifest = bundle
    assert manifest["schema_version"] == 1 and manifest["kind"] == "imn-bundle"
    for entry in manifest["artifacts"]:
        path = out / entry["file"]
        assert sha256_path(path) == entry["sha256"]
        embedded = FORMATS[entry["target"]].load_module().read_metadata(path)
        assert embedded["imn.graph"] == entry["graph"]
        assert embedded["imn.precision"] == entry["precision"]
        assert embedded["imn.checkpoint_sha256"] == manifest["model"]["checkpoint_sha256"]
        assert [i["name"] for i in json.loads(embedded["imn.inputs"])] == list(GRAPHS[entry["graph"]].inputs)
        spec = GRAPHS[entry["graph"]]
        assert [i["shape"] for i in entry["inputs"]] == [list(spec.input_shape(n, SIZE)) for n in spec.inputs]


def test_identity_presets_travel_with_masknet(bundle):
    out, _, manifest = bundle
    entry = manifest["identities"]
    vectors = np.load(out / entry["file"])
    assert sha256_path(out / entry["file"]) == entry["sha256"]
    assert list(vectors.shape) == entry["shape"] and vectors.shape[0] >= 16
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)


def test_runtimes_see_the_contract_io_names(bundle):
    out, _, manifest = bundle
    from ai_edge_litert.interpreter import Interpreter
    import onnxruntime as ort

    for entry in manifest["artifacts"]:
        spec, path = GRAPHS[entry["graph"]], str(out / entry["file"])
        if entry["target"] == "tflite":
            signature = Interpreter(model_path=path).get_signature_list()["serving_default"]
            assert sorted(signature["inputs"]) == sorted(spec.inputs)
            assert sorted(signature["outputs"]) == sorted(spec.outputs)
        elif entry["target"] == "onnx":
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            assert [i.name for i in session.get_inputs()] == list(spec.inputs)
            assert [o.name for o in session.get_outputs()] == list(spec.outputs)
        else:
            import coremltools as ct
            description = ct.models.MLModel(path, skip_model_load=True).get_spec().description
            assert [i.name for i in description.input] == list(spec.inputs)
            assert [o.name for o in description.output] == list(spec.outputs)


def test_existing_artifacts_are_not_overwritten(bundle):
    out, _, _ = bundle
    with pytest.raises(FileExistsError, match="--overwrite"):
        export_bundle(ExportOptions(targets="onnx", size=SIZE, out=str(out), progress=False))


def test_bundle_of_another_checkpoint_is_refused(bundle, tmp_path):
    from imn_export.nn.hiding import HidingConfig, HidingNetwork
    from imn_export.train.checkpoint import save_checkpoint

    other = tmp_path / "other.pt"
    save_checkpoint(other, {"model": HidingNetwork(HidingConfig(blocks=2)).state_dict(),
                            "hiding_config": HidingConfig(blocks=2).to_dict()})
    out, _, _ = bundle
    with pytest.raises(ValueError, match="another checkpoint"):
        export_bundle(ExportOptions(targets="onnx", size=SIZE, out=str(out), weights=str(other),
                                    progress=False))
    assert read_manifest(out)["model"]["name"] == "imn-inn-default"


def test_bench_times_every_runtime_here(bundle):
    from imn_export.evaluate.graph_bench import format_bench, run_bench

    out, _, _ = bundle
    result = run_bench(str(out), runs=1)
    labels = [row["runtime"] for row in result["rows"]]
    assert labels == ["torch fp32 eager", "onnx fp32", "onnx int8", "tflite fp32", "tflite int8"]
    assert all(row["hide_ms"] > 0 and row["reveal_ms"] > 0 for row in result["rows"])
    assert result["flops"]["hide"] > 0
    assert "x eager" in format_bench(result)


def test_cross_runtime_matrix_fp32_runtimes_agree(bundle):
    from imn_export.export.runtimes import bundle_runtimes
    from imn_export.export.samples import fallback_photos
    from imn_export.weights import load_hiding_network
    from imn_export.verify.parity import cross_runtime_matrix, torch_runners

    out, _, _ = bundle
    _, opened = bundle_runtimes(out, targets=("onnx", "tflite", "coreml"))
    net, _ = load_hiding_network()
    runtimes = [torch_runners(net)] + [r for r, _ in opened if r.label.endswith(("fp32", "fp16"))]
    pairs = fallback_photos(SIZE).pairs()[:2]
    matrix = cross_runtime_matrix(runtimes, pairs, progress=False)
    reference = matrix[runtimes[0].label][runtimes[0].label]
    for row in matrix.values():
        for value in row.values():
            assert value >= reference - 0.5, matrix
