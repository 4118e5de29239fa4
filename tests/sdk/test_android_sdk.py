"""The Kotlin SDK (sdk/android) on a desktop JVM: its JUnit suite runs against the golden vectors
and, through the Python graph server, on a real bundle's ONNX artifacts and on its TFLite ones
(the very files LiteRT runs on Android, static detector included), comparing its photos with the
Python SDK's on the same artifacts; then the Python SDK recovers the photos the Kotlin SDK
protected, keyless and sealed (cross-SDK)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imn_export.metrics import image_metrics
from imn_sdk import KeyRequired, Secret, WrongKey, generate_key, protect, read_key_file, recover, write_key_file
from imn_sdk.photo_io import read_photo
from tests.sdk.format1 import protect_keyed

ROOT = Path(__file__).resolve().parents[2]
ANDROID = ROOT / "sdk" / "android"
JARS = Path(os.environ.get("IMN_JARS", "/usr/share/java"))
NEEDED = ["gson.jar", "bcprov.jar", "junit4.jar", "hamcrest-core.jar", "kotlin-stdlib.jar"]

# The Python SDK's own floor on this case (tests/sdk/test_pipeline.py): the Kotlin-protected photo
# must recover as well as the Python-protected one.
RECOVERED_PSNR_FLOOR = 36.0

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    shutil.which("kotlinc") is None or not all((JARS / j).is_file() for j in NEEDED),
    reason="the Kotlin SDK tests need kotlinc and the junit4, hamcrest, gson and bcprov jars "
           "(Debian: apt-get install kotlin junit4 libgoogle-gson-java libbcprov-java; .ci/run installs them)")]


@pytest.fixture(scope="module")
def tflite_bundle_dir(tmp_path_factory):
    """The SDK tests' 64-px bundle as TFLite artifacts (what an Android app ships)."""
    pytest.importorskip("ai_edge_litert")
    from imn_export.export.exporter import ExportOptions, export_bundle

    out = tmp_path_factory.mktemp("sdk-bundle-tflite")
    export_bundle(ExportOptions(targets="tflite", precisions="fp32", size=64, out=str(out), checks=1,
                                progress=False), log=lambda _: None)
    return out


@pytest.fixture(scope="module", params=["onnx", "tflite"])
def kotlin_run(request, bundle_dir, astronaut, tmp_path_factory):
    from imn_sdk import Bundle

    target = request.param
    folder = bundle_dir if target == "onnx" else request.getfixturevalue("tflite_bundle_dir")
    bundle = Bundle(folder, target=target)
    cases = tmp_path_factory.mktemp(f"kotlin-cases-{target}")
    Image.fromarray(astronaut).save(cases / "astronaut.png")
    protected = protect(astronaut, bundle, donor=0, keyless=True)  # the Kotlin suite protects with donor 0 too
    protected.save(cases / "python.imn.png")
    recover(cases / "python.imn.png", bundle).save(cases / "python.recovered.png")
    key_file = write_key_file(cases / "key.txt", generate_key())
    secret = Secret(key=read_key_file(key_file))
    protect_keyed(astronaut, bundle, secret).save(cases / "python.keyed.imn.png")  # an earlier release's
    protect(astronaut, bundle, secret=secret).save(cases / "python.sealed.imn.png")
    recover(cases / "python.keyed.imn.png", bundle, secret=secret).save(cases / "python.keyed.recovered.png")
    env = dict(os.environ, IMN_TEST_BUNDLE=str(folder), IMN_TEST_TARGET=target, IMN_REQUIRE_ALL="1", IMN_TEST_CASES=str(cases), IMN_PYTHON=sys.executable,
               IMN_METADATA_CORPUS=str(ROOT / "tests" / "sdk" / "metadata_corpus"),
               IMN_MODELS=str(ROOT / "models"),
               IMN_BUILD=str(tmp_path_factory.mktemp("kotlin-build")),
               PYTHONPATH=os.pathsep.join([str(ROOT / "sdk" / "python"), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run([str(ANDROID / "run-jvm-tests.sh")], env=env, capture_output=True, text=True, timeout=900)
    return run, cases, protected, secret, bundle


def test_junit_suite_passes(kotlin_run):
    run, *_ = kotlin_run
    declared = sum(f.read_text().count("@Test") for f in (ANDROID / "src" / "test").rglob("*.kt"))
    assert run.returncode == 0 and f"OK ({declared} tests)" in run.stdout, run.stdout[-4000:] + run.stderr[-4000:]
    assert "protect (" in run.stdout  # the pipeline tests ran (IMN_REQUIRE_ALL turns skips into failures)


def _region_psnr(original, recovered, record):
    values = []
    for r in record["regions"]:
        box = (slice(r["y"], r["y"] + r["height"]), slice(r["x"], r["x"] + r["width"]))
        values.append(image_metrics(original[box], recovered[box])["psnr"])
    return min(values)


def test_python_recovers_what_kotlin_protected(kotlin_run, astronaut):
    run, cases, python_protected, _, bundle = kotlin_run
    assert run.returncode == 0, run.stdout[-2000:]
    recovered = recover(cases / "kotlin.imn.png", bundle)
    assert recovered.record["regions"] == python_protected.record["regions"]
    assert _region_psnr(astronaut, recovered.rgb, recovered.record) >= RECOVERED_PSNR_FLOOR
    outside = np.ones(astronaut.shape[:2], bool)
    for r in recovered.record["regions"]:
        outside[r["y"]:r["y"] + r["height"], r["x"]:r["x"] + r["width"]] = False
    assert np.array_equal(recovered.rgb[outside], astronaut[outside])


def test_python_recovers_a_kotlin_sealed_photo_with_the_key_only(kotlin_run, astronaut):
    """photo.md §7: the Kotlin SDK's sealed photo opens in the Python SDK, without a bundle, bit for
    bit, and only with its key; its record keeps the faces out of the clear."""
    run, cases, _, secret, _ = kotlin_run
    assert run.returncode == 0, run.stdout[-2000:]
    path = cases / "kotlin.sealed.imn.png"
    record = json.loads(read_photo(path).text["imn"])
    assert record["format"] == 2 and "faces" not in record and "bundle" not in record
    recovered = recover(path, None, secret=secret)
    assert np.array_equal(recovered.rgb, astronaut)
    assert recovered.record["faces"] and recovered.record["faces"][0]["donor"] == 0
    with pytest.raises(WrongKey):
        recover(path, None, secret=Secret(key=generate_key()))
    with pytest.raises(KeyRequired):
        recover(path, None)
