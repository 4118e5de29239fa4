package org.imn.sdk

import com.google.gson.JsonObject
import com.google.gson.JsonParser
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.io.File
import java.nio.file.Files
import java.util.Random

/** Sealed mode without a bundle (sdk/spec/photo.md §7; the Python SDK's tests/sdk/test_seal.py):
 *  pixels coded without loss, passphrase rules, the `imSd` chunk through a real PNG, and a sealed
 *  photo's recovery and every refusal before any output. */
class SealTest {
    private val passphrase = "violet tram under seven moons"

    private fun randomImage(width: Int, height: Int, seed: Long): RgbImage =
        RgbImage(width, height, ByteArray(width * height * 3).also { Random(seed).nextBytes(it) })

    private inline fun <reified T : Throwable> refused(what: String, message: String = "", block: () -> Unit) {
        try {
            block(); fail("$what was accepted")
        } catch (e: Throwable) {
            if (e !is T) throw e
            assertTrue("$what: ${e.message}", e.message!!.contains(message))
        }
    }

    @Test fun planeResidualsInvertExactly() {
        for ((w, h) in listOf(1 to 1, 13 to 7, 48 to 64)) {
            val pixels = randomImage(w, h, w.toLong())
            assertArrayEquals(pixels.pixels, Seal.planePixels(Seal.planeResiduals(pixels)).pixels)
        }
        // A horizontal ramp leaves residuals only in the first row and column.
        val ramp = RgbImage(64, 64, ByteArray(64 * 64 * 3) { ((it / 3) % 64).toByte() })
        assertTrue(Seal.planeResiduals(ramp).pixels.count { it.toInt() != 0 } <= 64 * 3 * 2)
    }

    @Test fun compactStepKeepsEveryPixelWithinOneLevel() {
        val values = RgbImage(16, 16, ByteArray(256 * 3) { (it / 3).toByte() })
        val step = Seal.STEPS.getValue("compact")
        val back = Seal.dequantize(Seal.quantize(values, step), step)
        val worst = values.pixels.indices.map { Math.abs((values.pixels[it].toInt() and 0xFF) - (back.pixels[it].toInt() and 0xFF)) }.max()
        assertEquals(1, worst)
    }

    @Test fun packRoundTripsAndRefusesAnythingElse() {
        val rgb = randomImage(60, 40, 1)
        val regions = listOf(Box(0, 0, 20, 10), Box(30, 20, 60, 40))
        val inner = JsonParser.parseString("{\"faces\": [{\"box\": [1, 2, 3, 4]}], \"masks\": \"donors\"}").asJsonObject
        val data = Seal.pack(rgb, regions, inner, 1)
        val (got, pixels) = Seal.unpack(data, regions, 1)
        assertEquals(inner, got)
        for ((k, r) in regions.withIndex()) assertArrayEquals(rgb.crop(r.x0, r.y0, r.width, r.height).pixels, pixels[k].pixels)
        val shortHeader = byteArrayOf(0, 0, 0, 2) + "{}".toByteArray() + data.copyOfRange(6, data.size)
        for (bad in listOf(data.copyOf(data.size - 5), data + byteArrayOf(0), data.copyOf(3), shortHeader)) {
            refused<ImageModified>("${bad.size} bytes", "do not match") { Seal.unpack(bad, regions, 1) }
        }
        refused<ImageModified>("more pixels than the regions hold") { Seal.unpack(data, regions.subList(0, 1), 1) }
    }

    @Test fun passphrasesNeedLengthAndVariety() {
        Seal.checkPassphrase(passphrase)
        for ((weak, reason) in listOf("short one" to "12 characters", "aaaaaaaaaaaaaaaa" to "different characters",
                                      "9081726354091" to "too easy")) {
            refused<WeakPassphrase>(weak, reason) { Seal.checkPassphrase(weak) }
        }
        // The same passphrase, composed or decomposed, gives the same bytes and the same count.
        assertArrayEquals(Seal.normalizePassphrase("caf\u00e9 au lait noir"), Seal.normalizePassphrase("cafe\u0301 au lait noir"))
        assertEquals(Seal.passphraseBits("caf\u00e9 au lait noir"), Seal.passphraseBits("cafe\u0301 au lait noir"), 0.0)
        assertEquals(16 * Math.log(10.0 + 26 + 26 + 33) / Math.log(2.0), Seal.passphraseBits("Ab1 Ab1 Ab1 Ab1 "), 1e-9)
    }

    @Test fun keysAreSalted() {
        val key = Keys.generateKey()
        val a = ByteArray(16) { 'a'.toByte() }
        val b = ByteArray(16) { 'b'.toByte() }
        assertArrayEquals(Seal.deriveKeys(key, a).aeadKey, Seal.deriveKeys(key, a).aeadKey)
        assertNotEquals(Seal.deriveKeys(key, a).check, Seal.deriveKeys(key, b).check)
        assertTrue(Seal.ARGON2ID.memoryKib >= 65536)  // the floor: 64 MiB per guess
    }

    /** A sealed photo of `rgb` with a flat grey stand-in for the Mask, written to a PNG file with
     *  its imn and imSd chunks (the bundle only detects and masks; sealing needs none). */
    private fun sealedFile(rgb: RgbImage, regions: List<Box>, secret: Keys.Secret, folder: File, step: Int = 1): File {
        val inner = JsonObject().apply { add("faces", com.google.gson.JsonArray()); addProperty("masks", "donors") }
        val plaintext = Seal.pack(rgb, regions, inner, step)
        val (entry, keys) = Seal.newEntry(secret, step, plaintext.size.toLong() + Seal.TAG_BYTES)
        val masked = rgb.copy()
        for (r in regions) masked.paste(RgbImage(r.width, r.height, ByteArray(r.width * r.height * 3) { 120 }), r.x0, r.y0)
        val text = Metadata.sealedRecord(rgb.width, rgb.height, regions, Metadata.photoDigest(masked, null), entry, "RGB").toString()
        return PhotoIO.writePng(File(folder, "sealed.png"), masked, null, mapOf(Metadata.CHUNK_KEY to text), ImageIOCodec,
                                chunks = mapOf(Seal.CHUNK_TYPE to Seal.encrypt(keys, entry, plaintext, text)))
    }

    @Test fun sealedPhotosRecoverWithoutABundleAndRefuseEverythingElse() {
        val folder = Files.createTempDirectory("imn-seal").toFile()
        try {
            val rgb = randomImage(50, 30, 2)
            val regions = listOf(Box(3, 2, 23, 14), Box(30, 10, 50, 30))
            val secret = Keys.Secret.ofKey(Keys.generateKey())
            val file = sealedFile(rgb, regions, secret, folder)
            val bytes = file.readBytes()
            val order = listOf("iTXt", "imSd", "IDAT").map { String(bytes, Charsets.ISO_8859_1).indexOf(it) }
            assertEquals("imn text, then imSd, then the pixels", order.sorted(), order)
            val photo = ImageIOCodec.readFile(file)
            val recovered = Pipeline.recover(photo, null, secret = secret)
            assertArrayEquals(rgb.pixels, recovered.rgb.pixels)
            assertTrue(recovered.record.isSealed && recovered.record.json.has("faces"))

            refused<KeyRequired>("no key", "sealed") { Pipeline.recover(photo, null) }
            refused<WrongKey>("a wrong key", "wrong key") { Pipeline.recover(photo, null, secret = Keys.Secret.ofKey(Keys.generateKey())) }
            refused<WrongKey>("a passphrase for a key", "passphrase") {
                Pipeline.recover(photo, null, secret = Keys.Secret.ofPassphrase(passphrase))
            }
            val data = photo.chunks.getValue(Seal.CHUNK_TYPE)
            val flipped = data.copyOf().also { it[it.size / 2] = (it[it.size / 2].toInt() xor 1).toByte() }
            fun altered(chunks: Map<String, ByteArray>, text: String = photo.text.getValue(Metadata.CHUNK_KEY)) =
                Photo(photo.rgb, text = mapOf(Metadata.CHUNK_KEY to text), format = "PNG", chunks = chunks)
            refused<ImageModified>("a flipped ciphertext bit", "altered") {
                Pipeline.recover(altered(mapOf(Seal.CHUNK_TYPE to flipped)), null, secret = secret)
            }
            // A record edited so that it still parses fails the tag all the same.
            val edited = photo.text.getValue(Metadata.CHUNK_KEY).replace("\"step\":1", "\"step\":3")
            refused<ImageModified>("an edited record", "altered") {
                Pipeline.recover(altered(mapOf(Seal.CHUNK_TYPE to data), edited), null, secret = secret)
            }
            refused<ImageModified>("a dropped chunk", "imSd") { Pipeline.recover(altered(emptyMap()), null, secret = secret) }
            refused<ImageModified>("a truncated chunk", "bytes") {
                Pipeline.recover(altered(mapOf(Seal.CHUNK_TYPE to data.copyOf(data.size - 1))), null, secret = secret)
            }
            val twice = Png.withChunk(bytes, Seal.CHUNK_TYPE, data)
            refused<InvalidImage>("two imSd chunks", "two imSd") { PhotoIO.read(twice, ImageIOCodec) }
        } finally {
            folder.deleteRecursively()
        }
    }

    @Test fun aPassphraseSealsCompactWithinOneLevel() {
        val folder = Files.createTempDirectory("imn-seal").toFile()
        try {
            val rgb = randomImage(40, 40, 3)
            val regions = listOf(Box(8, 8, 40, 32))
            val secret = Keys.Secret.ofPassphrase(passphrase)
            val photo = ImageIOCodec.readFile(sealedFile(rgb, regions, secret, folder, Seal.STEPS.getValue("compact")))
            val record = Metadata.parseRecord(photo.text)
            assertEquals(Seal.ARGON2ID, record.sealed!!.argon2)
            val recovered = Pipeline.recover(photo, null, secret = Keys.Secret.ofPassphrase(passphrase)).rgb
            val worst = rgb.pixels.indices.map { Math.abs((rgb.pixels[it].toInt() and 0xFF) - (recovered.pixels[it].toInt() and 0xFF)) }.max()
            assertEquals(1, worst)
            refused<WrongKey>("another passphrase", "wrong key") {
                Pipeline.recover(photo, null, secret = Keys.Secret.ofPassphrase("$passphrase!"))
            }
        } finally {
            folder.deleteRecursively()
        }
    }
}
