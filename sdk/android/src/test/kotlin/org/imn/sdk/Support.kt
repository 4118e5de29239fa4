package org.imn.sdk

import com.google.gson.JsonElement
import com.google.gson.JsonObject
import com.google.gson.JsonParser
import java.awt.image.BufferedImage
import java.io.ByteArrayInputStream
import java.io.ByteArrayOutputStream
import java.io.DataInputStream
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import javax.imageio.ImageIO

/** Where the tests find their inputs: the golden vectors always; a bundle, the Python graph
 *  server and cases made by the Python SDK when tests/sdk/test_android_sdk.py runs them. */
object TestEnv {
    val golden = File(System.getenv("IMN_GOLDEN") ?: "../golden")
    val bundle: File? = System.getenv("IMN_TEST_BUNDLE")?.let { File(it) }
    val cases: File? = System.getenv("IMN_TEST_CASES")?.let { File(it) }
    val python: String = System.getenv("IMN_PYTHON") ?: "python3"
    /** Which of the bundle's artifacts the pipeline runs: "tflite" is what Android runs. */
    val target: String = System.getenv("IMN_TEST_TARGET") ?: "onnx"
    val corpus: File? = System.getenv("IMN_METADATA_CORPUS")?.let { File(it) }
    /** Photos every SDK must refuse (tests/sdk/image_corpus, its README says why). */
    val imageCorpus = File(System.getenv("IMN_IMAGE_CORPUS") ?: "../../tests/sdk/image_corpus")
    /** The shipped models (the donor bank of Masks v2). */
    val models = File(System.getenv("IMN_MODELS") ?: "../../models")

    /** Set by tests/sdk/test_android_sdk.py: a missing bundle, case or corpus then fails the run
     *  instead of skipping the tests that need it (JUnit 4 reports skips as passes). */
    val requireAll = System.getenv("IMN_REQUIRE_ALL") == "1"

    fun needs(what: String, present: Boolean) {
        if (requireAll) org.junit.Assert.assertTrue("$what is missing", present)
        else org.junit.Assume.assumeTrue("$what not set (tests/sdk/test_android_sdk.py sets it)", present)
    }

    fun golden(name: String): JsonObject = JsonParser.parseString(File(golden, "$name.json").readText()).asJsonObject

    /** frac(sin(i · 12.9898 + seed) · 43758.5453) over the flat index, as golden.py's _pattern. */
    fun pattern(count: Int, seed: Double): FloatArray = FloatArray(count) {
        val v = Math.sin(it * 12.9898 + seed) * 43758.5453
        (v - Math.floor(v)).toFloat()
    }

    fun patternImage(height: Int, width: Int, seed: Double): RgbImage {
        val p = pattern(height * width * 3, seed)
        return RgbImage(width, height, ByteArray(p.size) { Math.min(Math.floor(p[it] * 256.0), 255.0).toInt().toByte() })
    }

    fun doubles(e: JsonElement): DoubleArray = e.asJsonArray.map { it.asDouble }.toDoubleArray()

    /** A nested JSON array flattened in row-major order. */
    fun flat(e: JsonElement): DoubleArray {
        val out = ArrayList<Double>()
        fun walk(x: JsonElement) { if (x.isJsonArray) x.asJsonArray.forEach { walk(it) } else out.add(x.asDouble) }
        walk(e)
        return out.toDoubleArray()
    }
}

/** The bundle's graphs run by `python -m imn_sdk.graph_server` (ONNX Runtime or LiteRT): the
 *  desktop stand-in for LiteRT on Android, so the Kotlin pipeline is tested on the real graphs. */
class ProcessRuntime(python: String) : GraphRuntime, AutoCloseable {
    private val process = ProcessBuilder(python, "-m", "imn_sdk.graph_server").redirectError(ProcessBuilder.Redirect.INHERIT).start()
    private val output = process.outputStream
    private val input = DataInputStream(process.inputStream.buffered())

    override fun open(file: File, inputs: List<String>, outputs: List<String>): Graph = object : Graph {
        override fun run(inputs2: List<Tensor>): List<Tensor> = call(file, inputs, outputs, inputs2)
    }

    @Synchronized
    private fun call(file: File, names: List<String>, outputs: List<String>, tensors: List<Tensor>): List<Tensor> {
        val header = JsonObject().apply {
            addProperty("file", file.absolutePath)
            add("inputs", JsonParser.parseString(names.joinToString(",", "[", "]") { "\"$it\"" }))
            add("outputs", JsonParser.parseString(outputs.joinToString(",", "[", "]") { "\"$it\"" }))
            add("shapes", JsonParser.parseString(tensors.joinToString(",", "[", "]") { it.shape.joinToString(",", "[", "]") }))
        }
        output.write((header.toString() + "\n").toByteArray())
        for (t in tensors) {
            val buffer = ByteBuffer.allocate(4 * t.data.size).order(ByteOrder.LITTLE_ENDIAN)
            buffer.asFloatBuffer().put(t.data)
            output.write(buffer.array())
        }
        output.flush()
        val line = StringBuilder()
        while (true) {
            val c = input.read()
            check(c >= 0) { "the graph server stopped" }
            if (c == '\n'.toInt()) break
            line.append(c.toChar())
        }
        val answer = JsonParser.parseString(line.toString()).asJsonObject
        answer["error"]?.let { throw IllegalStateException("graph server: ${it.asString}") }
        return answer.getAsJsonArray("shapes").map { s ->
            val shape = s.asJsonArray.map { it.asInt }.toIntArray()
            val bytes = ByteArray(4 * shape.fold(1) { a, b -> a * b })
            input.readFully(bytes)
            val data = FloatArray(bytes.size / 4)
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data)
            Tensor(shape, data)
        }
    }

    override fun close() {
        output.close()
        process.waitFor()
    }
}

/** javax.imageio as the desktop PhotoCodec (Android uses BitmapFactory): 8-bit RGB and RGBA. */
object ImageIOCodec : PhotoCodec {
    override fun decode(bytes: ByteArray): Photo {
        val stream = ImageIO.createImageInputStream(ByteArrayInputStream(bytes))
        val reader = ImageIO.getImageReaders(stream).asSequence().firstOrNull() ?: throw InvalidImage("not an image IMN can read")
        reader.input = stream
        val image = try { reader.read(0) } catch (e: Exception) { throw InvalidImage("the file is damaged or truncated (${e.message})") }
        if (image.colorModel.componentSize.any { it > 8 }) {
            throw InvalidImage("16-bit and float images are not supported: IMN writes 8-bit PNG and would lose their low bits")
        }
        val w = image.width
        val h = image.height
        val rgb = RgbImage(w, h)
        val hasAlpha = image.colorModel.hasAlpha()
        val alpha = if (hasAlpha) ByteArray(w * h) else null
        val raster = image.raster
        val bands = raster.numBands
        val direct = image.type == BufferedImage.TYPE_3BYTE_BGR || image.type == BufferedImage.TYPE_4BYTE_ABGR ||
                     (image.type == BufferedImage.TYPE_CUSTOM && bands >= 3)
        // Gray samples as they are, in three equal channels (Pillow's convert("RGB") of "L"):
        // getRGB would map Java's linear gray space to sRGB.
        val gray = image.colorModel.colorSpace.type == java.awt.color.ColorSpace.TYPE_GRAY && bands <= 2
        val px = IntArray(bands)
        for (y in 0 until h) for (x in 0 until w) {
            if (gray) {
                raster.getPixel(x, y, px)
                for (c in 0 until 3) rgb.pixels[(y * w + x) * 3 + c] = px[0].toByte()
                if (alpha != null) alpha[y * w + x] = px[1].toByte()
            } else if (direct) {
                raster.getPixel(x, y, px)
                for (c in 0 until 3) rgb.pixels[(y * w + x) * 3 + c] = px[c].toByte()
                if (alpha != null) alpha[y * w + x] = px[3].toByte()
            } else {
                val argb = image.getRGB(x, y)
                for (c in 0 until 3) rgb.pixels[(y * w + x) * 3 + c] = (argb shr (16 - 8 * c)).toByte()
                if (alpha != null) alpha[y * w + x] = (argb ushr 24).toByte()
            }
        }
        return Photo(rgb, alpha, format = reader.formatName.toUpperCase().let { if (it == "JPG") "JPEG" else it },
                     mode = if (gray) "L" else "RGB")
    }

    override fun encodePng(rgb: RgbImage, alpha: ByteArray?): ByteArray {
        val image = BufferedImage(rgb.width, rgb.height, if (alpha != null) BufferedImage.TYPE_4BYTE_ABGR else BufferedImage.TYPE_3BYTE_BGR)
        val px = IntArray(if (alpha != null) 4 else 3)
        for (y in 0 until rgb.height) for (x in 0 until rgb.width) {
            for (c in 0 until 3) px[c] = rgb.at(x, y, c)
            if (alpha != null) px[3] = alpha[y * rgb.width + x].toInt() and 0xFF
            image.raster.setPixel(x, y, px)
        }
        return ByteArrayOutputStream().also { ImageIO.write(image, "png", it) }.toByteArray()
    }

    fun readFile(file: File): Photo = PhotoIO.read(file.readBytes(), this)
}
