"""The ``imn`` chunk reader takes untrusted bytes: it returns a valid record or raises an
IMNError, never anything else. The corpus under metadata_corpus/ is replayed on every run, then
hypothesis searches further."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imn_sdk.errors import IMNError, NotProtected
from imn_sdk.metadata import InvalidMetadata, dump_record, parse_record, pixel_digest

CORPUS = sorted((Path(__file__).parent / "metadata_corpus").glob("*.json"))
VALID = json.loads((Path(__file__).parent / "metadata_corpus" / "valid.json").read_text())


def _parse_or_imn_error(text: str):
    try:
        return parse_record({"imn": text})
    except IMNError:
        return None


def test_missing_chunk_says_not_protected():
    with pytest.raises(NotProtected, match="stripped"):
        parse_record({"Software": "x"})


def test_valid_record_round_trips():
    assert parse_record({"imn": dump_record(VALID)}) == VALID


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus(path):
    record = _parse_or_imn_error(path.read_text())
    assert (record is not None) == path.stem.startswith("valid")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text(text):
    _parse_or_imn_error(text)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(VALID) + ["extra"]), json_values, max_size=8))
def test_mutated_records(changes):
    _parse_or_imn_error(json.dumps({**VALID, **changes}))


def test_digest_sees_one_changed_pixel():
    image = np.zeros((64, 64, 3), np.uint8)
    regions = [{"x": 0, "y": 0, "width": 64, "height": 64}]
    before = pixel_digest(image, regions)
    image[10, 10, 1] = 1
    assert pixel_digest(image, regions) != before
    with pytest.raises(InvalidMetadata):
        parse_record({"imn": "{}"})
