package org.imn.sdk

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.awt.image.BufferedImage
import java.io.ByteArrayOutputStream
import java.io.File
import java.nio.file.Files
import javax.imageio.ImageIO

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
            // As in tests/sdk/test_metadata.py: only valid*.json are records.
            assertEquals(f.name, f.name.startsWith("valid"), parsed)
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
        val png = ImageIOCodec.encodePng(TestEnv.patternImage(5, 7, 1.0), null)
        val text = "{\"é\": \"" + "x".repeat(5000) + "\"}"
        val withText = Png.withText(png, "imn", text)
        assertEquals(text, Png.textChunks(withText)["imn"])
        val decoded = ImageIOCodec.decode(withText)
        assertTrue(decoded.rgb.pixels.contentEquals(TestEnv.patternImage(5, 7, 1.0).pixels))
    }

    @Test fun damagedChunkIsRefused() {
        val png = Png.withText(ImageIOCodec.encodePng(TestEnv.patternImage(5, 7, 1.0), null), "imn", "{}")
        val at = String(png, Charsets.ISO_8859_1).indexOf("iTXt") + 6
        png[at] = (png[at] + 1).toByte()
        try {
            Png.textChunks(png); fail("a bad checksum passed")
        } catch (e: InvalidImage) {
            assertTrue(e.message!!.contains("checksum"))
        }
    }

    private val valid = "{\"format\": 1, \"size\": [256, 256], \"bundle\": {\"checkpoint_sha256\": \"ab\", \"target\": \"onnx\", " +
        "\"precision\": \"fp32\", \"tile\": 64}, \"regions\": [{\"x\": 0, \"y\": 0, \"width\": 64, \"height\": 64}], " +
        "\"faces\": [], \"keyed\": false, \"digest\": \"sha256:" + "0".repeat(64) + "\""

    @Test fun recordModeIsRgbOrL() {
        assertEquals("RGB", Metadata.parseRecord(mapOf("imn" to "$valid}")).mode)
        assertEquals("RGB", Metadata.parseRecord(mapOf("imn" to "$valid, \"mode\": \"RGB\"}")).mode)
        assertEquals("L", Metadata.parseRecord(mapOf("imn" to "$valid, \"mode\": \"L\"}")).mode)
        for (bad in listOf("\"CMYK\"", "\"l\"", "\"LA\"", "1", "null", "true", "[\"L\"]")) {
            try {
                Metadata.parseRecord(mapOf("imn" to "$valid, \"mode\": $bad}")); fail("mode $bad accepted")
            } catch (e: InvalidMetadata) {
                assertEquals("imn metadata: mode must be RGB or L", e.message)
            }
        }
    }

    @Test fun sixteenBitPngsAreRefusedAndProtectedOnesCarryTheirRecord() {
        val corpus = TestEnv.imageCorpus
        TestEnv.needs("tests/sdk/image_corpus", corpus.isDirectory)
        for (name in listOf("rgb16.png", "rgba16.png", "gray16.png")) {
            try {
                PhotoIO.read(File(corpus, name).readBytes(), ImageIOCodec); fail("$name was read")
            } catch (e: InvalidImage) {
                assertTrue("$name: ${e.message}", e.message!!.contains("16-bit"))
            }
        }
        val protected = PhotoIO.read(File(corpus, "already-protected.png").readBytes(), ImageIOCodec)
        assertEquals("RGB", Metadata.parseRecord(protected.text).mode)  // Pipeline.protect refuses it (PipelineTest)
    }

    @Test fun grayIsPillowsLuma() {
        val rgb = RgbImage(7, 1, byteArrayOf(-1, 0, 0, 0, -1, 0, 0, 0, -1, 12, 200.toByte(), 99, -1, -1, -1, 1, 2, 3, 128.toByte(), 64, 250.toByte()))
        assertArrayEquals(intArrayOf(76, 150, 29, 132, 255, 2, 104), PhotoIO.toGray(rgb).map { it.toInt() and 0xFF }.toIntArray())
    }

    @Test fun grayscalePhotosAreReadAsLAndWrittenGray() {
        val w = 11
        val h = 9
        val luma = PhotoIO.toGray(TestEnv.patternImage(h, w, 2.0))
        val alpha = ByteArray(w * h) { (it * 7).toByte() }
        for (a in listOf(null, alpha)) {
            val photo = PhotoIO.read(Png.encodeGray(luma, a, w, h), ImageIOCodec)
            assertEquals("L", photo.mode)
            assertTrue(photo.notes.any { it.contains("grayscale") })
            for (i in 0 until w * h) for (c in 0 until 3) assertEquals(luma[i], photo.rgb.pixels[3 * i + c])
            if (a != null) assertArrayEquals(a, photo.alpha)
            val folder = Files.createTempDirectory("imn-gray").toFile()
            val file = PhotoIO.writePng(File(folder, "gray.png"), photo.rgb, photo.alpha, emptyMap(), ImageIOCodec, mode = "L")
            val written = ImageIO.read(file)
            assertEquals(if (a == null) 1 else 2, written.raster.numBands)
            assertTrue(Png.header(file.readBytes()).gray)
            for (y in 0 until h) for (x in 0 until w) {
                assertEquals(luma[y * w + x].toInt() and 0xFF, written.raster.getSample(x, y, 0))
                if (a != null) assertEquals(a[y * w + x].toInt() and 0xFF, written.raster.getSample(x, y, 1))
            }
            folder.deleteRecursively()
        }
        assertEquals("RGB", PhotoIO.read(ImageIOCodec.encodePng(TestEnv.patternImage(h, w, 2.0), null), ImageIOCodec).mode)
        fun jpeg(type: Int) = ByteArrayOutputStream().also { ImageIO.write(BufferedImage(16, 16, type), "jpeg", it) }.toByteArray()
        assertEquals("L", PhotoIO.sourceMode(jpeg(BufferedImage.TYPE_BYTE_GRAY)))
        assertEquals("RGB", PhotoIO.sourceMode(jpeg(BufferedImage.TYPE_3BYTE_BGR)))
    }

    @Test fun textChunkBombsAreRefusedAtOnce() {
        TestEnv.needs("the image corpus", TestEnv.imageCorpus.isDirectory)
        try {
            Png.textChunks(java.io.File(TestEnv.imageCorpus, "imn-chunk-bomb.png").readBytes()); org.junit.Assert.fail("read an imn chunk over 1 MB")
        } catch (e: InvalidMetadata) { }
        try {
            Png.textChunks(java.io.File(TestEnv.imageCorpus, "text-over-64mb.png").readBytes()); org.junit.Assert.fail("read 67 MB of text chunks")
        } catch (e: InvalidImage) {
            org.junit.Assert.assertTrue(e.message!!.contains("metadata is larger"))
        }
    }

    private val sealedEntry = "{\"cipher\": \"aes-256-gcm\", \"kind\": \"passphrase\", \"kdf\": {\"argon2id\": " +
        "{\"memory_kib\": 65536, \"iterations\": 3, \"lanes\": 1}, \"then\": \"hkdf-sha256\"}, \"salt\": \"${"0".repeat(32)}\", " +
        "\"nonce\": \"${"1".repeat(24)}\", \"check\": \"${"2".repeat(32)}\", \"pixels\": \"plane-deflate\", \"step\": 1, \"bytes\": 1000}"

    private fun sealed(entry: String = sealedEntry, extra: String = "", format: Int = 2) =
        "{\"format\": $format, \"size\": [64, 64], \"regions\": [{\"x\": 0, \"y\": 0, \"width\": 64, \"height\": 32}], " +
        "\"digest\": \"sha256:${"0".repeat(64)}\", \"sealed\": $entry$extra}"

    @Test fun sealedRecordsAreCheckedAsThePythonSdkChecksThem() {
        val record = Metadata.parseRecord(mapOf("imn" to sealed()))
        assertEquals(2, record.format)
        assertEquals(Argon2Params(65536, 3, 1), record.sealed!!.argon2)
        assertEquals(null, record.bundle)
        val entry = com.google.gson.JsonParser.parseString(sealedEntry).asJsonObject
        fun changed(name: String, value: String) = entry.deepCopy().apply { add(name, com.google.gson.JsonParser.parseString(value)) }.toString()
        fun argon2(name: String, value: Int) = changed("kdf", "{\"argon2id\": {\"memory_kib\": 65536, \"iterations\": 3, " +
                                                              "\"lanes\": 1, \"$name\": $value}, \"then\": \"hkdf-sha256\"}")
        val badEntries = listOf(changed("cipher", "\"xor\""), changed("kind", "\"pin\""), changed("nonce", "\"${"1".repeat(23)}\""),
                                changed("salt", "\"${"A".repeat(32)}\""), changed("kdf", "\"hkdf-sha256\""),
                                changed("kdf", "{\"argon2id\": {\"memory_kib\": 65536, \"iterations\": 3, \"lanes\": 1}, " +
                                               "\"then\": \"hkdf-sha256\", \"more\": 1}"),
                                changed("step", "0"), changed("step", "1.0"), changed("bytes", "1000000000"), changed("bytes", "15"),
                                argon2("memory_kib", 1 shl 30), argon2("memory_kib", 4096), argon2("iterations", 1000),
                                argon2("lanes", 16), "[]", "null")
        val badRecords = badEntries.map { sealed(it) } + listOf(
            sealed(extra = ", \"faces\": []"), sealed(extra = ", \"keyed\": true"), sealed(extra = ", \"key\": {}"),
            sealed(extra = ", \"bundle\": {}"), sealed(format = 1), sealed(format = 3),
            "{\"format\": 2, \"size\": [64, 64], \"regions\": [{\"x\": 0, \"y\": 0, \"width\": 64, \"height\": 32}], " +
            "\"digest\": \"sha256:${"0".repeat(64)}\"}")
        for (bad in badRecords) {
            try {
                Metadata.parseRecord(mapOf("imn" to bad)); fail("accepted $bad")
            } catch (e: InvalidMetadata) { }
        }
        // Format 2 regions are any disjoint rectangles inside the photo, not whole tiles.
        val odd = sealed().replace("\"width\": 64, \"height\": 32", "\"width\": 7, \"height\": 5")
        assertEquals(listOf(Box(0, 0, 7, 5)), Metadata.parseRecord(mapOf("imn" to odd)).regions)
    }
}
