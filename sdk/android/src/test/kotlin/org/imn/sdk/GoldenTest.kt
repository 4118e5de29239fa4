package org.imn.sdk

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Test
import java.io.File
import java.security.MessageDigest

/** The pure steps against sdk/golden/ (written by the Python reference SDK): alignment, the
 *  blend weight, tiles, suppression, digest, Pillow-equal resampling, sealed mode and the keyed
 *  photos of earlier releases. */
class GoldenTest {
    private val geometry = TestEnv.golden("geometry")
    private val resample = TestEnv.golden("resample")
    private val keys = TestEnv.golden("keys")
    private val masks = TestEnv.golden("masks")
    private val seal = TestEnv.golden("seal")

    @Test fun regionAlpha() {
        val case = masks.getAsJsonObject("region_alpha")
        val got = Masks.regionAlpha(case["size"].asInt).map { it.toDouble() }.toDoubleArray()
        assertArrayEquals(TestEnv.flat(case["output"]), got, 1e-4)
    }

    private fun levels(image: RgbImage) = image.pixels.map { (it.toInt() and 0xFF).toDouble() }.toDoubleArray()

    @Test fun donorCompositeOnPatterns() {
        val case = masks.getAsJsonObject("compose_pattern")
        val face = TestEnv.patternImage(32, 32, 11.0)
        val outline = TestEnv.patternImage(32, 32, 17.0).let { o -> ByteArray(32 * 32) { o.pixels[it * 3] } }
        val got = Masks.compose(face, Masks.Donor(TestEnv.patternImage(32, 32, 13.0), outline))
        assertArrayEquals(TestEnv.flat(case["output"]), levels(got), 1.0)
    }

    @Test fun donorCompositeOnTheShippedBank() {
        // The bank as an app decodes it (a PNG codec, then Masks.loadBank), donor 5 over the
        // astronaut's aligned face: within one level of the Python SDK everywhere.
        val info = com.google.gson.JsonParser.parseString(File(TestEnv.models, "donors.json").readText()).asJsonObject
        val atlas = ImageIOCodec.readFile(File(TestEnv.models, info["image"].asString)).rgb
        val bank = Masks.loadBank(atlas, info["count"].asInt, info["size"].asInt,
                                  info.getAsJsonArray("box").map { it.asInt }.toIntArray())
        val case = masks.getAsJsonObject("compose_bank")
        val face = ImageIOCodec.readFile(File(TestEnv.golden, case["face"].asString)).rgb
        val expected = ImageIOCodec.readFile(File(TestEnv.golden, case["output"].asString)).rgb
        val got = Masks.compose(face, bank[case["donor"].asInt])
        assertArrayEquals(levels(expected), levels(got), 1.0)
        val layout = java.io.ByteArrayOutputStream()
        for (d in bank) for (i in 0 until d.outline.size) {
            layout.write(d.face.pixels, i * 3, 3); layout.write(d.outline[i].toInt())
        }
        val sha = MessageDigest.getInstance("SHA-256").digest(layout.toByteArray()).joinToString("") { "%02x".format(it) }
        assertEquals(masks.getAsJsonObject("bank_pixels")["decoded_sha256"].asString, sha)
    }

    @Test fun cropTransform() {
        val case = geometry.getAsJsonObject("crop_transform")
        val landmarks = case.getAsJsonArray("landmarks").map { TestEnv.doubles(it) }.toTypedArray()
        val got = Align.cropTransform(landmarks, case["size"].asInt).m
        assertArrayEquals(TestEnv.flat(case["output"]), got, 1e-6)
    }

    @Test fun blendBox() {
        val case = geometry.getAsJsonObject("blend_box")
        val landmarks = case.getAsJsonArray("landmarks").map { TestEnv.doubles(it) }.toTypedArray()
        val size = case["size"].asInt
        assertArrayEquals(TestEnv.flat(case["output"]), Align.blendBox(Align.cropTransform(landmarks, size), size), 0.0)
    }

    @Test fun faceAlpha() {
        val case = geometry.getAsJsonObject("face_alpha")
        val got = Align.faceAlpha(case["size"].asInt).map { it.toDouble() }.toDoubleArray()
        assertArrayEquals(TestEnv.flat(case["output"]), got, 1e-6)
    }

    @Test fun snapAndMerge() {
        for (c in geometry.getAsJsonObject("snap").getAsJsonArray("cases")) {
            val o = c.asJsonObject
            val photo = o.getAsJsonArray("photo")
            val box = Tiles.snap(TestEnv.doubles(o["box"]), photo[0].asInt, photo[1].asInt, o["tile"].asInt, o["margin"].asInt)
            assertEquals(TestEnv.doubles(o["output"]).map { it.toInt() }, listOf(box.x0, box.y0, box.x1, box.y1))
        }
        for (c in geometry.getAsJsonObject("tile_layout").getAsJsonArray("cases")) {
            val o = c.asJsonObject
            val r = TestEnv.doubles(o["region"]).map { it.toInt() }
            val layout = Tiles.tileLayout(Box(r[0], r[1], r[2], r[3]), o["tile"].asInt, o["margin"].asInt)
            assertEquals(o.getAsJsonArray("output").map { t ->
                val a = t.asJsonArray
                listOf(a[0].asInt, a[1].asInt) + TestEnv.doubles(a[2]).map { it.toInt() }
            }, layout.map { listOf(it.x, it.y, it.core.x0, it.core.y0, it.core.x1, it.core.y1) })
        }
        val m = geometry.getAsJsonObject("merge")
        val merged = Tiles.merge(m.getAsJsonArray("boxes").map { TestEnv.doubles(it) }, m["photo"].asJsonArray[0].asInt,
                                 m["photo"].asJsonArray[1].asInt, m["tile"].asInt)
        assertEquals(m.getAsJsonArray("output").map { r -> TestEnv.doubles(r).map { it.toInt() } },
                     merged.map { listOf(it.x0, it.y0, it.x1, it.y1) })
    }

    /** This SDK's pipeline constants are the reference SDK's (constants.json). */
    @Test fun constants() {
        val v = TestEnv.golden("constants").getAsJsonObject("pipeline").getAsJsonObject("values")
        assertEquals(v["min_face_pixels"].asInt, Pipeline.MIN_FACE_PIXELS)
        assertEquals(v["detect_max_pixels"].asInt, Pipeline.DETECT_MAX_PIXELS)
        assertEquals(v["untouched_masked_weight"].asDouble, Pipeline.UNTOUCHED_MASKED_WEIGHT.toDouble(), 0.0)
        assertEquals(v["tile_margin"].asInt, Tiles.MARGIN)
        assertEquals(v["key_piece"].asInt, Keys.PIECE)
        assertEquals(v["donor_candidates"].asInt, Bundle.DONOR_CANDIDATES)
        assertArrayEquals(TestEnv.flat(v["detect_thresholds"]), Detect.THRESHOLDS, 0.0)
        assertEquals(v["detect_scale_factor"].asDouble, Detect.SCALE_FACTOR, 0.0)
        val formats = v.getAsJsonObject("formats")
        assertEquals(listOf(formats["legacy"].asInt, formats["sealed"].asInt, formats["keyless"].asInt),
                     listOf(Metadata.FORMAT_VERSION, Metadata.SEALED_FORMAT_VERSION, Metadata.KEYLESS_FORMAT_VERSION))
    }

    /** The records protect writes, from records.json's inputs; each must also parse. */
    @Test fun records() {
        val records = TestEnv.golden("records")
        val keyless = records.getAsJsonObject("keyless")
        val i = keyless.getAsJsonObject("inputs")
        val size = i.getAsJsonArray("size")
        val regions = i.getAsJsonArray("regions").map {
            val r = it.asJsonObject
            Box(r["x"].asInt, r["y"].asInt, r["x"].asInt + r["width"].asInt, r["y"].asInt + r["height"].asInt)
        }
        assertEquals(keyless["output"], Metadata.keylessRecord(size[0].asInt, size[1].asInt, i.getAsJsonObject("bundle"),
                     i["margin"].asInt, regions, i.getAsJsonArray("faces"), i["masks"].asString, i["digest"].asString,
                     i["mode"].asString))
        assertEquals(16, Metadata.parseRecord(mapOf("imn" to keyless["output"].toString())).margin)
        val sealed = records.getAsJsonObject("sealed")
        val s = sealed.getAsJsonObject("inputs")
        val parsed = Metadata.parseRecord(mapOf("imn" to sealed["output"].toString()))
        assertEquals(sealed["output"], Metadata.sealedRecord(s.getAsJsonArray("size")[0].asInt, s.getAsJsonArray("size")[1].asInt,
                     parsed.regions, s["digest"].asString, parsed.sealed!!, s["mode"].asString))
    }

    @Test fun nms() {
        val n = geometry.getAsJsonObject("nms")
        val kept = Detect.nms(n.getAsJsonArray("boxes").map { TestEnv.doubles(it) }, TestEnv.doubles(n["scores"]), n["threshold"].asDouble)
        assertEquals(TestEnv.doubles(n["output"]).map { it.toInt() }, kept.sorted())
    }

    @Test fun pixelDigest() {
        val d = geometry.getAsJsonObject("pixel_digest")
        val image = RgbImage(8, 8, ByteArray(8 * 8 * 3) { (it % 251).toByte() })
        val regions = d.getAsJsonArray("regions").map { r ->
            val o = r.asJsonObject
            Box(o["x"].asInt, o["y"].asInt, o["x"].asInt + o["width"].asInt, o["y"].asInt + o["height"].asInt)
        }
        assertEquals(d["output"].asString, Metadata.pixelDigest(image, regions))
    }

    private fun bytesOf(image: RgbImage) = image.pixels.map { (it.toInt() and 0xFF).toDouble() }.toDoubleArray()

    @Test fun boxResizeEqualsPillow() {
        val image = TestEnv.patternImage(37, 41, 7.0)
        for ((size, expected) in resample.getAsJsonObject("box_resize").getAsJsonObject("output").entrySet()) {
            val (w, h) = size.split("x").map { it.toInt() }
            assertArrayEquals(size, TestEnv.flat(expected), bytesOf(Resample.boxResize(image, w, h)), 0.0)
        }
    }

    @Test fun bicubicWarpEqualsPillow() {
        val case = resample.getAsJsonObject("bicubic_warp")
        val size = TestEnv.doubles(case["size"]).map { it.toInt() }
        val got = Resample.warpBicubic(TestEnv.patternImage(37, 41, 7.0), TestEnv.doubles(case["affine"]), size[0], size[1])
        assertArrayEquals(TestEnv.flat(case["output"]), bytesOf(got), 0.0)
    }

    @Test fun bilinearWarpEqualsPillow() {
        val case = resample.getAsJsonObject("bilinear_warp")
        val size = TestEnv.doubles(case["size"]).map { it.toInt() }
        val got = Resample.warpBilinear(TestEnv.pattern(19 * 23, 3.0), 23, 19, TestEnv.doubles(case["affine"]), size[0], size[1])
        assertArrayEquals(TestEnv.flat(case["output"]), got.map { it.toDouble() }.toDoubleArray(), 1e-6)
    }

    @Test fun exifOrientationEqualsPillow() {
        val image = TestEnv.patternImage(37, 41, 7.0).crop(0, 0, 5, 3)
        val alpha = ByteArray(15) { it.toByte() }
        for ((k, expected) in resample.getAsJsonObject("exif_orientation").getAsJsonObject("output").entrySet()) {
            val (upright, uprightAlpha) = Orientation.apply(image, alpha, k.toInt())
            assertArrayEquals("orientation $k", TestEnv.flat(expected), bytesOf(upright), 0.0)
            val rows = expected.asJsonArray.size()
            assertEquals(rows, upright.height)
            // alpha moves with its pixel: the pixel that holds source index i holds alpha i
            val sources = Orientation.apply(RgbImage(5, 3, ByteArray(45) { (it / 3).toByte() }), null, k.toInt()).first
            for (i in 0 until 15) assertEquals(sources.pixels[3 * i], uprightAlpha!![i])
        }
    }

    @Test fun keyDerivation() {
        val salt = Keys.unhex(keys["salt"].asString)
        val photoKey = Keys.Secret.ofKey(Keys.unhex(keys["key"].asString)).photoKey(salt)
        assertEquals(keys["photo_key"].asString, Keys.hex(photoKey))
        assertEquals(keys["check"].asString, Keys.checkValue(photoKey))
        assertEquals(keys["passphrase_photo_key"].asString, Keys.hex(Keys.Secret.ofPassphrase(keys["passphrase"].asString).photoKey(salt)))
    }

    @Test fun tileScrambleAndItsInverse() {
        val photoKey = Keys.unhex(keys["photo_key"].asString)
        val t = keys.getAsJsonObject("tile_scramble")
        val s = Keys.tileScramble(photoKey, t["region"].asInt, t["x"].asInt, t["y"].asInt, t["count"].asInt)
        assertEquals(TestEnv.doubles(t["order"]).map { it.toInt() }, s.order.toList())
        assertEquals(TestEnv.doubles(t["turns"]).map { it.toInt() }, s.turns.toList())
        val tile = TestEnv.patternImage(128, 128, 5.0)
        val scrambled = Keys.scramble(tile, s, 32)
        val sha = MessageDigest.getInstance("SHA-256").digest(scrambled.pixels).joinToString("") { "%02x".format(it) }
        assertEquals(keys.getAsJsonObject("scrambled_tile")["sha256"].asString, sha)
        assertArrayEquals(tile.pixels, Keys.unscramble(scrambled, s, 32).pixels)
    }

    // ---- sealed mode (photo.md §7) ----

    /** The pattern photo the sealed vectors were made from (seal.json's "photo" says the rule). */
    private fun sealPhoto(): RgbImage {
        val p = seal.getAsJsonObject("photo")
        val shape = TestEnv.doubles(p["shape"]).map { it.toInt() }
        return TestEnv.patternImage(shape[0], shape[1], p["pattern_seed"].asDouble)
    }

    @Test fun sealKeyDerivation() {
        val salt = Keys.unhex(seal["salt"].asString)
        val a = seal.getAsJsonObject("argon2id")
        val argon2 = Argon2Params(a["memory_kib"].asInt, a["iterations"].asInt, a["lanes"].asInt)
        assertEquals(Seal.ARGON2ID, argon2)
        val material = Seal.keyMaterial(Keys.Secret.ofPassphrase(seal["passphrase"].asString), salt, argon2)
        assertEquals(seal["passphrase_material"].asString, Keys.hex(material))
        val byPhrase = Seal.deriveKeys(material, salt)
        assertEquals(seal["passphrase_aead_key"].asString, Keys.hex(byPhrase.aeadKey))
        assertEquals(seal["passphrase_check"].asString, byPhrase.check)
        val key = Keys.unhex(seal["key"].asString)
        assertArrayEquals(key, Seal.keyMaterial(Keys.Secret.ofKey(key), salt, null))
        val byKey = Seal.deriveKeys(key, salt)
        assertEquals(seal["key_aead_key"].asString, Keys.hex(byKey.aeadKey))
        assertEquals(seal["key_check"].asString, byKey.check)
    }

    @Test fun planeResidualsAndTheCompactStep() {
        val region = sealPhoto().crop(0, 0, 16, 8)  // "photo rows 0..7, columns 0..15"
        val residuals = Seal.planeResiduals(region)
        assertArrayEquals(TestEnv.flat(seal.getAsJsonObject("plane_residuals")["output"]), levels(residuals), 0.0)
        assertArrayEquals(region.pixels, Seal.planePixels(residuals).pixels)
        val compact = Seal.dequantize(Seal.quantize(region, Seal.STEPS.getValue("compact")), Seal.STEPS.getValue("compact"))
        assertArrayEquals(TestEnv.flat(seal.getAsJsonObject("compact_step_3")["output"]), levels(compact), 0.0)
    }

    @Test fun sealedRecordPlaintextAndCiphertext() {
        val photo = sealPhoto()
        val text = seal["record_text"].asString
        val record = Metadata.parseRecord(mapOf(Metadata.CHUNK_KEY to text))
        val entry = record.sealed!!
        // The record this SDK writes for the same photo and entry is the Python SDK's, byte for byte.
        assertEquals(text, Metadata.sealedRecord(photo.width, photo.height, record.regions, Metadata.photoDigest(photo, null),
                                       entry, "RGB").toString())
        val keys = Seal.openKeys(entry, Keys.Secret.ofKey(Keys.unhex(seal["key"].asString)))
        val plaintext = Keys.unhex(seal["plaintext"].asString)
        val ciphertext = Keys.unhex(seal["ciphertext"].asString)
        assertEquals(entry.bytes, plaintext.size.toLong() + Seal.TAG_BYTES)
        assertEquals(seal["ciphertext"].asString, Keys.hex(Seal.encrypt(keys, entry, plaintext, text)))
        assertArrayEquals(plaintext, Seal.decrypt(keys, entry, ciphertext, text))
        val (inner, pixels) = Seal.unpack(plaintext, record.regions, entry.step)
        assertEquals(seal["inner"], inner)
        for ((k, r) in record.regions.withIndex()) {
            assertArrayEquals("region $k", photo.crop(r.x0, r.y0, r.width, r.height).pixels, pixels[k].pixels)
        }
        // One flipped bit of the ciphertext, or of the record's text, fails the tag.
        val flipped = ciphertext.copyOf().also { it[it.size / 2] = (it[it.size / 2].toInt() xor 1).toByte() }
        val edited = text.replace("\"step\":1", "\"step\":3")
        org.junit.Assert.assertNotEquals(text, edited)
        for ((data, aad) in listOf(flipped to text, ciphertext to edited)) {
            try {
                Seal.decrypt(keys, entry, data, aad); org.junit.Assert.fail("an altered photo was decrypted")
            } catch (e: ImageModified) {
                org.junit.Assert.assertTrue(e.message!!.contains("altered"))
            }
        }
    }
}
