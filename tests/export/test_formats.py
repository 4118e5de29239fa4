import pytest

from imn_export.export.formats import FORMATS, plan, resolve_precisions, resolve_targets, supported_pairs


def test_aliases_resolve_to_their_format():
    assert [f.key for f in resolve_targets("ios")] == ["coreml"]
    assert [f.key for f in resolve_targets("android,ort")] == ["onnx", "tflite"]
    assert [f.key for f in resolve_targets("all")] == list(FORMATS)


def test_unknown_target_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown target 'tensorrt'.*onnx.*coreml.*tflite"):
        resolve_targets("tensorrt")


def test_unknown_precision():
    with pytest.raises(ValueError, match="unknown precision 'int4'"):
        resolve_precisions("int4")


def test_unsupported_pair_for_one_target_lists_supported_pairs():
    with pytest.raises(ValueError, match=r"onnx:fp16 is not a supported.*coreml:fp16"):
        plan("onnx", "fp16")


def test_several_targets_skip_pairs_they_lack():
    pairs, skipped = plan("all", "fp16")
    assert [(f.key, p) for f, p in pairs] == [("coreml", "fp16")]
    assert skipped == ["onnx:fp16", "tflite:fp16"]


def test_every_format_offers_fp32_and_int8():
    for fmt in FORMATS.values():
        assert {"fp32", "int8"} <= set(fmt.precisions)
    assert len(supported_pairs()) == sum(len(f.precisions) for f in FORMATS.values())
