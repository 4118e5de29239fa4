package org.imn.sdk

import com.google.gson.JsonParser
import org.junit.AfterClass
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import java.io.File

/**
 * The Kotlin pipeline on a real bundle, its graphs run by the Python graph server, against what
 * the Python reference SDK did with the same bundle (cases written by tests/sdk/test_android_sdk.py,
 * which then recovers the photos this test protects).
 */
class PipelineTest {
    companion object {
        private var runtime: ProcessRuntime? = null
        private var opened: Bundle? = null

        fun bundle(): Bundle {
            opened?.let { return it }
            val r = ProcessRuntime(TestEnv.python).also { runtime = it }
            return Bundle(TestEnv.bundle!!, r, target = TestEnv.target, precision = "fp32", codec = ImageIOCodec).also { opened = it }
        }

        @AfterClass @JvmStatic fun stop() { runtime?.close() }
    }

    private val cases get() = TestEnv.cases!!

    @Before fun needsBundle() {
        TestEnv.needs("IMN_TEST_BUNDLE / IMN_TEST_CASES", TestEnv.bundle != null && TestEnv.cases != null)
    }

    private fun read(name: String) = ImageIOCodec.readFile(File(cases, name))

    private fun outsideEqual(a: RgbImage, b: RgbImage, regions: List<Box>): Boolean {
        for (y in 0 until a.height) for (x in 0 until a.width) {
            if (regions.any { it.contains(x.toDouble(), y.toDouble()) }) continue
            for (c in 0 until 3) if (a.at(x, y, c) != b.at(x, y, c)) return false
        }
        return true
    }

    @Test fun detectorGraphsGiveTheGoldenOutputs() {
        val detector = TestEnv.golden("detector")
        for (name in listOf("pnet", "rnet", "onet")) {
            val case = detector.getAsJsonObject(name)
            val shape = TestEnv.doubles(case.getAsJsonObject("input")["shape"]).map { it.toInt() }.toIntArray()
            val input = Tensor(shape, TestEnv.pattern(shape.fold(1) { a, b -> a * b }, case.getAsJsonObject("input")["pattern_seed"].asDouble))
            val outputs = bundle().detector.getValue(name).run(listOf(input))
            for ((k, expected) in case.getAsJsonArray("outputs").withIndex()) {
                assertArrayEquals("$name output $k", TestEnv.flat(expected), outputs[k].data.map { it.toDouble() }.toDoubleArray(), 1e-4)
            }
        }
    }

    @Test fun photoCaseFindsTheGoldenFace() {
        val golden = TestEnv.golden("photo")
        val photo = ImageIOCodec.readFile(File(TestEnv.golden, golden["photo"].asString))
        val faces = Detect.detectFaces(photo.rgb, bundle().detector)
        val expected = golden.getAsJsonArray("faces")
        assertEquals(expected.size(), faces.size)
        for ((i, e) in expected.withIndex()) {
            val o = e.asJsonObject
            assertArrayEquals(TestEnv.doubles(o["box"]), faces[i].box, 0.05)
            assertArrayEquals(TestEnv.flat(o["landmarks"]), faces[i].landmarks.flatMap { it.map(Float::toDouble) }.toDoubleArray(), 0.05)
            val lm = Array(5) { k -> doubleArrayOf(faces[i].landmarks[k][0].toDouble(), faces[i].landmarks[k][1].toDouble()) }
            assertArrayEquals(TestEnv.flat(golden.getAsJsonArray("crop_transforms_64")[i]), Align.cropTransform(lm, 64).m, 1e-3)
        }
        val transforms = faces.map { f -> Align.cropTransform(Array(5) { k -> doubleArrayOf(f.landmarks[k][0].toDouble(), f.landmarks[k][1].toDouble()) }, 64) }
        val regions = Tiles.merge(transforms.map { Align.blendBox(it, 64) }, 256, 256, 64)
        assertEquals(golden.getAsJsonArray("regions_64").map { r -> TestEnv.doubles(r).map { it.toInt() } },
                     regions.map { listOf(it.x0, it.y0, it.x1, it.y1) })
    }

    @Test fun protectMatchesThePythonSdk() {
        val input = read("astronaut.png")
        val python = read("python.imn.png")
        val mine = Pipeline.protect(input, bundle(), donor = 0, keyless = true)  // the donor the Python SDK was given
        val record = Metadata.parseRecord(python.text)
        assertEquals(record.regions, Metadata.parseRecord(mapOf("imn" to mine.record.toString())).regions)
        assertTrue("pixels outside the regions must be the input's", outsideEqual(mine.rgb, input.rgb, record.regions))
        var differ = 0
        var worst = 0
        for (i in mine.rgb.pixels.indices) {
            val d = Math.abs((mine.rgb.pixels[i].toInt() and 0xFF) - (python.rgb.pixels[i].toInt() and 0xFF))
            if (d != 0) differ++
            worst = Math.max(worst, d)
        }
        // Same graphs, same Pillow-equal resampling: at most rounding-edge differences.
        println("protect (${TestEnv.target}): $differ of ${mine.rgb.pixels.size} values differ from the Python SDK's (worst $worst)")
        assertTrue("$differ of ${mine.rgb.pixels.size} values differ from the Python SDK's (worst $worst)",
                   differ <= mine.rgb.pixels.size / 1000 && worst <= 2)
        val out = File(cases, "kotlin.imn.png")
        out.delete()
        mine.save(out, ImageIOCodec)
        try {
            mine.save(out, ImageIOCodec); fail("wrote over an existing file")
        } catch (e: OutputExists) { }
    }

    @Test fun donorsAreDrawnAmongTheFarthestByIdentity() {
        val b = bundle()
        val vectors = b.donorIdentities!!
        val face = Resample.boxResize(read("astronaut.png").rgb, b.size, b.size)
        val v = b.identity(face)
        val norm = Math.sqrt(v.fold(0.0) { a, x -> a + x.toDouble() * x })
        val sex = b.manifest.getAsJsonObject("donors").getAsJsonObject("identity").getAsJsonObject("sex")
        val weights = sex.getAsJsonArray("weights").map { it.asDouble }
        val male = weights.indices.fold(0.0) { a, i -> a + weights[i] * v[i] } / norm + sex["bias"].asDouble > 0
        val pool = sex.getAsJsonArray("donor_male").mapIndexedNotNull { k, m -> if (m.asBoolean == male) k else null }
        val similarity = pool.associateWith { k -> vectors[k].indices.fold(0.0) { a, i -> a + vectors[k][i].toDouble() * v[i] } / norm }
        val farthest = pool.sortedBy { similarity.getValue(it) }.take(8).toSet()
        val random = java.security.SecureRandom()
        val drawn = (0 until 40).map { b.chooseDonor(face, random) }.toSet()
        assertTrue("$drawn not within $farthest", farthest.containsAll(drawn) && drawn.size > 1)
    }

    @Test fun recoverEqualsThePythonSdk() {
        val recovered = Pipeline.recover(read("python.imn.png"), bundle())
        assertArrayEquals(read("python.recovered.png").rgb.pixels, recovered.rgb.pixels)
        assertTrue(recovered.notes.isEmpty())
    }

    @Test fun protectedPhotosAreRefusedAndAKeyForAKeylessPhotoIsRefused() {
        val python = read("python.imn.png")
        for (photo in listOf(python, ImageIOCodec.readFile(File(TestEnv.imageCorpus, "already-protected.png")))) {
            try {
                Pipeline.protect(photo, bundle(), keyless = true); fail("protected a protected photo")
            } catch (e: AlreadyProtected) {
                assertTrue(e.message!!.contains("already protected"))
            }
        }
        try {
            Pipeline.recover(python, bundle(), secret = Keys.Secret.ofKey(Keys.generateKey())); fail("a keyless photo passed for a sealed one")
        } catch (e: WrongKey) {
            assertTrue(e.message!!.contains("keyless, not sealed"))
        }
    }

    @Test fun grayscalePhotoGetsAGrayMaskAndComesBackGray() {
        val colour = read("astronaut.png").rgb
        val luma = PhotoIO.toGray(colour)
        val photo = PhotoIO.read(Png.encodeGray(luma, null, colour.width, colour.height), ImageIOCodec)
        assertEquals("L", photo.mode)
        val result = Pipeline.protect(photo, bundle(), keyless = true)
        assertEquals("L", result.record["mode"].asString)
        val regions = Metadata.parseRecord(mapOf("imn" to result.record.toString())).regions
        assertTrue(outsideEqual(result.rgb, photo.rgb, regions))
        val out = File(cases, "kotlin.gray.imn.png")
        out.delete()
        result.save(out, ImageIOCodec)
        val recovered = Pipeline.recover(ImageIOCodec.readFile(out), bundle())
        assertEquals("L", recovered.mode)
        val back = File(cases, "kotlin.gray.recovered.png")
        back.delete()
        recovered.save(back, ImageIOCodec)
        val saved = javax.imageio.ImageIO.read(back)
        assertEquals(1, saved.raster.numBands)
        for (y in 0 until saved.height) for (x in 0 until saved.width) {
            if (regions.any { it.contains(x.toDouble(), y.toDouble()) }) continue
            assertEquals(luma[y * saved.width + x].toInt() and 0xFF, saved.raster.getSample(x, y, 0))
        }
    }

    /** Keyed photos of earlier releases (photo.md §8): no SDK writes them any more, every SDK
     *  still recovers them (tests/sdk/format1.py makes this one as they were made). */
    @Test fun keyedPhotosOfEarlierReleases() {
        val secret = Keys.Secret.ofKey(Keys.readKeyFile(File(cases, "key.txt")))
        val keyed = read("python.keyed.imn.png")
        assertArrayEquals(read("python.keyed.recovered.png").rgb.pixels, Pipeline.recover(keyed, bundle(), secret = secret).rgb.pixels)
        try {
            Pipeline.recover(keyed, bundle()); fail("recovered without the key")
        } catch (e: KeyRequired) { }
        try {
            Pipeline.recover(keyed, bundle(), secret = Keys.Secret.ofKey(Keys.generateKey())); fail("recovered with a wrong key")
        } catch (e: WrongKey) {
            assertTrue(e.message!!.contains("wrong key"))
        }
    }

    /** photo.md §7: Kotlin seals the astronaut with the cases' key (tests/sdk/test_android_sdk.py
     *  then opens it with the Python SDK), and opens the photo the Python SDK sealed. */
    @Test fun sealedPhotos() {
        val secret = Keys.Secret.ofKey(Keys.readKeyFile(File(cases, "key.txt")))
        val input = read("astronaut.png")
        val mine = Pipeline.protect(input, bundle(), secret = secret, donor = 0)
        assertTrue(mine.isSealed)
        val regions = Metadata.parseRecord(mapOf("imn" to mine.recordText!!)).regions
        assertTrue("pixels outside the regions must be the input's", outsideEqual(mine.rgb, input.rgb, regions))
        val out = File(cases, "kotlin.sealed.imn.png")
        out.delete()
        mine.save(out, ImageIOCodec)
        val saved = read("kotlin.sealed.imn.png")
        val clear = JsonParser.parseString(saved.text.getValue("imn")).asJsonObject
        assertEquals(setOf("format", "size", "regions", "digest", "sealed"), clear.keySet())
        assertTrue(Keys.hex(Keys.readKeyFile(File(cases, "key.txt"))) !in saved.text.getValue("imn"))
        val recovered = Pipeline.recover(saved, null, secret = secret)
        assertArrayEquals(input.rgb.pixels, recovered.rgb.pixels)
        assertEquals(0, recovered.record.json.getAsJsonArray("faces")[0].asJsonObject["donor"].asInt)
        assertEquals(recovered.record.json.getAsJsonArray("faces").size(), recovered.record.faces.size)
        // Python's sealed photo: bit for bit the astronaut, with the bundle or without.
        val python = read("python.sealed.imn.png")
        assertArrayEquals(input.rgb.pixels, Pipeline.recover(python, null, secret = secret).rgb.pixels)
        assertArrayEquals(input.rgb.pixels, Pipeline.recover(python, bundle(), secret = secret).rgb.pixels)
        for (photo in listOf(saved, python)) {
            try {
                Pipeline.recover(photo, bundle()); fail("recovered a sealed photo without the key")
            } catch (e: KeyRequired) {
                assertTrue(e.message!!.contains("sealed"))
            }
            try {
                Pipeline.recover(photo, null, secret = Keys.Secret.ofKey(Keys.generateKey())); fail("recovered with a wrong key")
            } catch (e: WrongKey) {
                assertTrue(e.message!!.contains("wrong key"))
            }
        }
    }

    @Test fun compactSealsAreSmallerAndWithinOneLevel() {
        val input = read("astronaut.png")
        val secret = Keys.Secret.ofPassphrase("violet tram under seven moons")
        val lossless = Pipeline.protect(input, bundle(), secret = secret, donor = 0)
        val compact = Pipeline.protect(input, bundle(), secret = secret, donor = 0, sealQuality = "compact")
        assertTrue("${compact.sealed!!.size} vs ${lossless.sealed!!.size}", compact.sealed.size < 0.85 * lossless.sealed.size)
        val photo = Photo(compact.rgb, text = mapOf("imn" to compact.recordText!!), format = "PNG",
                          chunks = mapOf(Seal.CHUNK_TYPE to compact.sealed))
        val recovered = Pipeline.recover(photo, null, secret = secret).rgb
        val worst = input.rgb.pixels.indices.map { Math.abs((input.rgb.pixels[it].toInt() and 0xFF) - (recovered.pixels[it].toInt() and 0xFF)) }.max()
        assertEquals(1, worst)
    }

    @Test fun protectNeedsAnExplicitMode() {
        val input = read("astronaut.png")
        try {
            Pipeline.protect(input, bundle()); fail("protected without choosing sealed or keyless")
        } catch (e: KeyRequired) {
            assertTrue(e.message!!.contains("keyless = true"))
        }
        try {
            Pipeline.protect(input, bundle(), secret = Keys.Secret.ofKey(Keys.generateKey()), keyless = true); fail("sealed and keyless")
        } catch (e: IllegalArgumentException) {
            assertTrue(e.message!!.contains("not both"))
        }
        try {
            Pipeline.protect(input, bundle(), secret = Keys.Secret.ofPassphrase("password1")); fail("sealed with a weak passphrase")
        } catch (e: WeakPassphrase) { }
        try {
            Pipeline.protect(input, bundle(), secret = Keys.Secret.ofKey(Keys.generateKey()), sealQuality = "tiny"); fail("unknown quality")
        } catch (e: IllegalArgumentException) { }
        try {
            Pipeline.recover(read("python.imn.png"), null); fail("a keyless photo recovered without a bundle")
        } catch (e: BundleMismatch) { }
    }

    @Test fun damagedOrForeignPhotosAreRefusedBeforeRevealing() {
        try {
            Pipeline.recover(read("astronaut.png"), bundle()); fail("an unprotected photo was recovered")
        } catch (e: NotProtected) { }
        val python = read("python.imn.png")
        val region = Metadata.parseRecord(python.text).regions[0]
        val edited = python.rgb.copy()
        val i = ((region.y0 + 3) * edited.width + region.x0 + 3) * 3
        edited.pixels[i] = (edited.pixels[i] + 1).toByte()
        val photo = Photo(edited, null, text = python.text, format = "PNG")
        try {
            Pipeline.recover(photo, bundle()); fail("an edited photo passed the digest")
        } catch (e: ImageModified) {
            assertTrue(e.message!!.contains("changed after protection"))
        }
        Pipeline.recover(photo, bundle(), force = true)
        try {
            Pipeline.recover(Photo(python.rgb, format = "JPEG"), bundle()); fail("a JPEG was taken for a protected PNG")
        } catch (e: ImageModified) { }
        val other = JsonParser.parseString(python.text.getValue("imn")).asJsonObject
        other.getAsJsonObject("bundle").addProperty("checkpoint_sha256", "0".repeat(64))
        try {
            Pipeline.recover(Photo(python.rgb, text = mapOf("imn" to other.toString()), format = "PNG"), bundle()); fail("another bundle's photo")
        } catch (e: BundleMismatch) { }
        try {
            Pipeline.protect(Photo(RgbImage(32, 300)), bundle(), keyless = true); fail("a photo narrower than a tile")
        } catch (e: ImageTooSmall) { }
        try {
            Pipeline.protect(Photo(RgbImage(200, 150, ByteArray(200 * 150 * 3) { 120 })), bundle(), keyless = true)
            fail("a face in a flat grey photo")
        } catch (e: NoFaceFound) {
            assertTrue(e.message!!.contains("no face"))
        }
    }
}
