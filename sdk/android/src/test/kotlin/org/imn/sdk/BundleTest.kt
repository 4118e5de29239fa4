package org.imn.sdk

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.io.File
import java.nio.file.Files

/** Opening bundles: what a phone app gets told when a bundle cannot serve it. */
class BundleTest {
    private val runtime = object : GraphRuntime {
        val opened = ArrayList<String>()
        override fun open(file: File, inputs: List<String>, outputs: List<String>): Graph {
            opened.add(file.name)
            return object : Graph { override fun run(inputs: List<Tensor>): List<Tensor> = emptyList() }
        }
    }

    private fun bundle(static: String): File {
        val dir = Files.createTempDirectory("imn-bundle").toFile()
        val artifacts = listOf("masknet", "hide", "reveal").joinToString(",") { g ->
            """{"graph": "$g", "target": "tflite", "precision": "fp32", "size": 64, "file": "$g.tflite", "sha256": "00",
                "inputs": [{"name": "a"}], "outputs": [{"name": "b"}]}"""
        }
        File(dir, "manifest.json").writeText("""{"model": {"checkpoint_sha256": "ab", "aux": {"kind": "zeros"}},
            "artifacts": [$artifacts], "identities": {"file": "identities.npy"},
            "detector": {"graphs": {"pnet": {"file": "detector-pnet.onnx", "inputs": ["image"], "outputs": ["offsets", "face_prob"]}}
                         $static}}""")
        // A (2, 3) float32 .npy: header padded to 64 bytes, as NumPy writes it.
        val header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".padEnd(63) + "\n"
        val npy = byteArrayOf(0x93.toByte()) + "NUMPY".toByteArray() + byteArrayOf(1, 0, header.length.toByte(), 0) +
                  header.toByteArray() + ByteArray(24)
        File(dir, "identities.npy").writeBytes(npy)
        return dir
    }

    @Test fun aPhoneBundleWithoutStaticDetectorGraphsIsRefusedClearly() {
        try {
            Bundle(bundle(""), runtime, target = "tflite"); fail("opened without a detector LiteRT can run")
        } catch (e: BundleMismatch) {
            assertTrue(e.message!!, e.message!!.contains("no static detector graphs for tflite"))
        }
    }

    @Test fun staticDetectorGraphsAreWindowedAndOneBoxAtATime() {
        val static = """, "static": {"pnet_window": 128, "batch": 1, "targets": {"tflite": {
            "pnet": {"file": "p.tflite", "inputs": ["image"], "outputs": ["offsets", "face_prob"]},
            "rnet": {"file": "r.tflite", "inputs": ["patches"], "outputs": ["offsets", "face_prob"]},
            "onet": {"file": "o.tflite", "inputs": ["patches"], "outputs": ["offsets", "landmarks", "face_prob"]}}}}"""
        val opened = Bundle(bundle(static), runtime, target = "tflite")
        assertTrue(opened.detector["pnet"] is WindowedPnet && opened.detector["rnet"] is OneByOne)
        assertEquals(listOf(2, 3), listOf(opened.identities.size, opened.identities[0].size))
        assertTrue(runtime.opened.containsAll(listOf("p.tflite", "r.tflite", "o.tflite", "hide.tflite")))
    }
}
