package org.imn.sdk

import com.google.gson.JsonObject
import com.google.gson.JsonParser
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * A bundle written by `imn-export` (sdk/spec/bundle.md), opened for the photo pipeline: the
 * masknet, hide and reveal artifacts of one target and precision, the detector graphs and the
 * identity presets; [runtime] executes the files (LiteRT on Android).
 */
class Bundle(val folder: File, runtime: GraphRuntime, val target: String = "tflite", val precision: String = "fp32") {
    val manifest: JsonObject
    val size: Int
    val identities: Array<FloatArray>
    val detector: Map<String, Graph>
    private val entries: Map<String, JsonObject>
    private val graphs: Map<String, Graph>

    init {
        val manifestFile = File(folder, "manifest.json")
        if (!manifestFile.isFile) {
            throw BundleMismatch("$folder is not an IMN bundle (no manifest.json); make one with: imn-export --target $target --out DIR")
        }
        manifest = JsonParser.parseString(manifestFile.readText()).asJsonObject
        val found = manifest.getAsJsonArray("artifacts").map { it.asJsonObject }
            .filter { it["target"].asString == target && it["precision"].asString == precision }
            .associateBy { it["graph"].asString }
        val missing = PIPELINE_GRAPHS.filter { it !in found }
        if (missing.isNotEmpty()) {
            val have = manifest.getAsJsonArray("artifacts").map { it.asJsonObject.let { e -> "${e["target"].asString} ${e["precision"].asString}" } }.toSortedSet()
            throw BundleMismatch("$folder has no ${missing.joinToString()} artifact for $target $precision; it has ${have.joinToString()}")
        }
        if (!manifest.has("detector") || !manifest.has("identities")) {
            throw BundleMismatch("$folder lacks the face detector or the identity presets; export it with Mask-net")
        }
        entries = PIPELINE_GRAPHS.associate { it to found.getValue(it) }
        val sizes = entries.values.map { it["size"].asInt }.toSet()
        if (sizes.size != 1) throw BundleMismatch("masknet, hide and reveal differ in size (${sizes.sorted()})")
        size = sizes.first()
        val aux = manifest.getAsJsonObject("model").getAsJsonObject("aux")?.get("kind")?.asString ?: "zeros"
        if (aux != "zeros") throw BundleMismatch("aux kind '$aux': the SDK reveals with aux = 0 only")
        graphs = entries.mapValues { (_, e) ->
            runtime.open(File(folder, e["file"].asString), names(e, "inputs"), names(e, "outputs"))
        }
        detector = openDetector(runtime)
        identities = readNpyMatrix(File(folder, manifest.getAsJsonObject("identities")["file"].asString))
    }

    /** The static detector graphs of this bundle's target (windowed PNet, one box at a time); an
     *  ONNX bundle from before they existed falls back to its dynamic graphs (desktop runtimes). */
    private fun openDetector(runtime: GraphRuntime): Map<String, Graph> {
        val detectorEntry = manifest.getAsJsonObject("detector")
        val static = detectorEntry.getAsJsonObject("static")
        val staticGraphs = static?.getAsJsonObject("targets")?.getAsJsonObject(target)
        if (static != null && staticGraphs != null) {
            val open = { name: String ->
                val g = staticGraphs.getAsJsonObject(name)
                runtime.open(File(folder, g["file"].asString), g.getAsJsonArray("inputs").map { it.asString },
                             g.getAsJsonArray("outputs").map { it.asString })
            }
            return mapOf("pnet" to WindowedPnet(open("pnet"), static["pnet_window"].asInt),
                         "rnet" to OneByOne(open("rnet")), "onet" to OneByOne(open("onet")))
        }
        if (target != "onnx") {
            throw BundleMismatch("$folder has no static detector graphs for $target (phones need them); " +
                                 "re-export it with this imn-export: imn-export --target $target --out DIR")
        }
        return detectorEntry.getAsJsonObject("graphs").entrySet().associate { (name, g) ->
            val o = g.asJsonObject
            name to runtime.open(File(folder, o["file"].asString), o.getAsJsonArray("inputs").map { it.asString },
                                 o.getAsJsonArray("outputs").map { it.asString })
        }
    }

    private fun names(entry: JsonObject, key: String) = entry.getAsJsonArray(key).map { it.asJsonObject["name"].asString }

    /** What a protected photo records about the bundle that hid it. */
    fun describe(): JsonObject = JsonObject().apply {
        addProperty("checkpoint_sha256", manifest.getAsJsonObject("model")["checkpoint_sha256"].asString)
        addProperty("target", target)
        addProperty("precision", precision)
        addProperty("tile", size)
        addProperty("hide_sha256", entries.getValue("hide")["sha256"].asString)
        addProperty("reveal_sha256", entries.getValue("reveal")["sha256"].asString)
    }

    /** Throws [BundleMismatch] unless this bundle reveals what `recorded`'s bundle hid (the same
     *  checkpoint and tile); returns a note when another target or precision of it reveals. */
    fun checkCanReveal(recorded: JsonObject): List<String> {
        val mine = describe()
        for (key in listOf("checkpoint_sha256", "tile")) {
            if (recorded[key]?.toString() != mine[key].toString()) {
                throw BundleMismatch("this photo was protected with another bundle ($key: ${recorded[key]}, this bundle: ${mine[key]}); " +
                                     "open it with the bundle that protected it")
            }
        }
        val hid = recorded["target"].asString to recorded["precision"].asString
        if (hid == target to precision) return emptyList()
        val caveat = if ("int8" in listOf(hid.second, precision)) " (int8 on one side: up to 3 dB below revealing with the same artifact)" else ""
        return listOf("hidden with ${hid.first} ${hid.second}, revealed with $target $precision$caveat")
    }

    /** Mask face `(S, S)` of an aligned face crop and a unit identity vector `(D,)`. */
    fun maskFace(face: RgbImage, identity: FloatArray): RgbImage =
        graphs.getValue("masknet").run(listOf(Tensor.fromImage(face), Tensor(intArrayOf(1, identity.size), identity)))[0].toImage()

    /** Masked tile `(S, S)`, rounded to the 8 bits a PNG stores. */
    fun hide(protectedTile: RgbImage, maskTile: RgbImage): RgbImage =
        graphs.getValue("hide").run(listOf(Tensor.fromImage(protectedTile), Tensor.fromImage(maskTile)))[0].toImage()

    /** Recovered tile `(S, S)` from a masked tile, aux = 0. */
    fun reveal(maskedTile: RgbImage): RgbImage =
        graphs.getValue("reveal").run(listOf(Tensor.fromImage(maskedTile), Tensor.zeros(1, 3, size, size)))[0].toImage()

    companion object {
        val PIPELINE_GRAPHS = listOf("masknet", "hide", "reveal")

        /** A little-endian float32 `(K, D)` .npy file (what `identities.npy` is). */
        fun readNpyMatrix(file: File): Array<FloatArray> {
            val bytes = file.readBytes()
            require(bytes.size > 10 && String(bytes, 1, 5, Charsets.ISO_8859_1) == "NUMPY") { "$file is not a .npy file" }
            val major = bytes[6].toInt()
            val headerLength: Int
            val start: Int
            if (major == 1) {
                headerLength = (bytes[8].toInt() and 0xFF) or ((bytes[9].toInt() and 0xFF) shl 8); start = 10
            } else {
                headerLength = ByteBuffer.wrap(bytes, 8, 4).order(ByteOrder.LITTLE_ENDIAN).int; start = 12
            }
            val header = String(bytes, start, headerLength, Charsets.ISO_8859_1)
            require("'<f4'" in header && "'fortran_order': False" in header) { "$file: expected little-endian float32 in C order ($header)" }
            val shape = Regex("'shape': \\((\\d+), (\\d+)\\)").find(header)?.groupValues ?: throw IllegalArgumentException("$file: expected a 2-D array ($header)")
            val rows = shape[1].toInt()
            val cols = shape[2].toInt()
            val data = ByteBuffer.wrap(bytes, start + headerLength, rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
            return Array(rows) { r -> FloatArray(cols) { c -> data.get(r * cols + c) } }
        }
    }
}
