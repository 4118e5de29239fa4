package org.imn.sdk

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.io.File

/** The metadata reader and the PNG chunk code: the places untrusted bytes enter. */
class MetadataTest {
    @Test fun corpusGivesARecordOrAnImnErrorNeverAnythingElse() {
        val corpus = TestEnv.corpus
        TestEnv.needs("IMN_METADATA_CORPUS", corpus != null)
        val files = corpus!!.listFiles { f: File -> f.name.endsWith(".json") }!!.sorted()
        assertTrue("empty corpus", files.isNotEmpty())
        for (f in files) {
            val parsed = try {
                Metadata.parseRecord(mapOf("imn" to f.readText()))
                true
            } catch (e: ImnException) {
                false
            } catch (e: Exception) {
                fail("${f.name}: ${e.javaClass.simpleName} (${e.message}) escaped the reader")
                false
            }
            // As in tests/sdk/test_metadata.py: only valid.json is a record.
            assertEquals(f.name, f.name == "valid.json", parsed)
        }
    }

    @Test fun missingChunkIsNotProtected() {
        try {
            Metadata.parseRecord(emptyMap()); fail("no chunk accepted")
        } catch (e: NotProtected) {
            assertTrue(e.message!!.contains("stripped"))
        }
    }

    @Test fun textChunkRoundTrip() {
        val png = ImageIoCodec.encodePng(TestEnv.patternImage(5, 7, 1.0), null)
        val text = "{\"é\": \"" + "x".repeat(5000) + "\"}"
        val withText = Png.withText(png, "imn", text)
        assertEquals(text, Png.textChunks(withText)["imn"])
        val decoded = ImageIoCodec.decode(withText)
        assertTrue(decoded.rgb.pixels.contentEquals(TestEnv.patternImage(5, 7, 1.0).pixels))
    }

    @Test fun damagedChunkIsRefused() {
        val png = Png.withText(ImageIoCodec.encodePng(TestEnv.patternImage(5, 7, 1.0), null), "imn", "{}")
        val at = String(png, Charsets.ISO_8859_1).indexOf("iTXt") + 6
        png[at] = (png[at] + 1).toByte()
        try {
            Png.textChunks(png); fail("a bad checksum passed")
        } catch (e: InvalidImage) {
            assertTrue(e.message!!.contains("checksum"))
        }
    }
}
