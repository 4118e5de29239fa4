package org.imn.sdk

import com.google.gson.JsonObject
import com.google.gson.JsonParser
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * A bundle written by `imn-export` (sdk/spec/bundle.md), opened for the photo pipeline: the hide
 * and reveal artifacts of one target and precision, the detector graphs, the donor bank of
 * Masks v2 (decoded by [codec]) and, where exported, Mask-net with its identity presets;
 * [runtime] executes the files (LiteRT on Android).
 */
class Bundle(val folder: File, runtime: GraphRuntime, val target: String = "tflite", val precision: String = "fp32",
             codec: PhotoCodec? = null) {
    val manifest: JsonObject
    val size: Int
    val identities: Array<FloatArray>
    /** Masks v2's donors; null without a bank in the bundle or without a codec to decode it. */
    val donors: List<Masks.Donor>?
    /** Each donor's identity vector (unit rows), when the bundle can embed faces to compare. */
    val donorIdentities: List<FloatArray>?
    private val donorCandidates: Int
    // Apparent sex (a linear classifier on the unit identity vector), so a face gets a donor of its
    // own: the farthest donors by identity are mostly of the other sex (models/imn-donors.md).
    private val sexWeights: FloatArray?
    private val sexBias: Float
    private val donorMale: List<Boolean>?
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
        if (!manifest.has("detector")) {
            throw BundleMismatch("$folder lacks the face detector; export it with a $target target")
        }
        val donorsEntry = manifest.getAsJsonObject("donors")
        val graphNames = listOf("masknet").filter { it in found && manifest.has("identities") } +
            listOf("identity").filter { it in found && donorsEntry?.has("identity") == true } + PIPELINE_GRAPHS
        entries = graphNames.associateWith { found.getValue(it) }
        val sizes = entries.filterKeys { it != "identity" }.values.map { it["size"].asInt }.toSet()
        if (sizes.size != 1) throw BundleMismatch("${graphNames.joinToString()} differ in size (${sizes.sorted()})")
        size = sizes.first()
        val aux = manifest.getAsJsonObject("model").getAsJsonObject("aux")?.get("kind")?.asString ?: "zeros"
        if (aux != "zeros") throw BundleMismatch("aux kind '$aux': the SDK reveals with aux = 0 only")
        graphs = entries.mapValues { (_, e) ->
            runtime.open(File(folder, e["file"].asString), names(e, "inputs"), names(e, "outputs"))
        }
        detector = openDetector(runtime)
        identities = if ("masknet" in entries) readNpyMatrix(File(folder, manifest.getAsJsonObject("identities")["file"].asString))
                     else emptyArray()
        donors = if (manifest.has("donors") && codec != null) loadDonors(manifest.getAsJsonObject("donors"), codec) else null
        val identity = donorsEntry?.getAsJsonObject("identity")
        donorIdentities = if (donors != null && "identity" in entries && identity != null)
            identity.getAsJsonArray("vectors").map { v -> v.asJsonArray.map { it.asFloat }.toFloatArray() } else null
        donorCandidates = identity?.get("farthest")?.asInt ?: DONOR_CANDIDATES
        val sex = identity?.getAsJsonObject("sex")
        sexWeights = if (donorIdentities != null && sex != null) sex.getAsJsonArray("weights").map { it.asFloat }.toFloatArray() else null
        sexBias = sex?.get("bias")?.asFloat ?: 0f
        donorMale = if (sexWeights != null) sex!!.getAsJsonArray("donor_male").map { it.asBoolean } else null
    }

    /**
     * Masks v2's draw for an aligned face (sdk/spec/photo.md §3): one of the manifest's `farthest`
     * (8) donors least like it by identity (cosine), uniformly from a cryptographic source;
     * without an identity graph, any donor uniformly.
     */
    fun chooseDonor(face: RgbImage, random: java.security.SecureRandom): Int {
        require("donors")
        val vectors = donorIdentities ?: return random.nextInt(donors!!.size)
        val v = identity(face)
        val norm = Math.max(Math.sqrt(v.fold(0.0) { a, x -> a + x.toDouble() * x }), 1e-12)
        var pool = vectors.indices.toList()
        if (sexWeights != null) {
            val male = sexWeights.indices.fold(0.0) { a, i -> a + sexWeights[i].toDouble() * v[i] } / norm + sexBias > 0
            val same = pool.filter { donorMale!![it] == male }
            if (same.size >= donorCandidates) pool = same
        }
        val similarity = pool.associateWith { k -> vectors[k].indices.fold(0.0) { a, i -> a + vectors[k][i].toDouble() * v[i] } / norm }
        val farthest = pool.sortedBy { similarity.getValue(it) }.take(donorCandidates)  // stable: ties by index
        return farthest[random.nextInt(farthest.size)]
    }

    /** The identity graph's vector (compare by cosine) of an aligned face, box-resized to its input. */
    fun identity(face: RgbImage): FloatArray {
        val side = entries.getValue("identity").getAsJsonArray("inputs")[0].asJsonObject.getAsJsonArray("shape").last().asInt
        return graphs.getValue("identity").run(listOf(Tensor.fromImage(Resample.boxResize(face, side, side))))[0].data
    }

    /** The donor bank, checked against the manifest's SHA-256 and decoded by `codec`. */
    private fun loadDonors(entry: JsonObject, codec: PhotoCodec): List<Masks.Donor> {
        val missing = listOf("file", "sha256", "count", "size", "box").filter { !entry.has(it) }
        if (missing.isNotEmpty()) throw BundleMismatch("the manifest's donors entry lacks ${missing.joinToString()}")
        val file = File(folder, entry["file"].asString)
        val bytes = file.readBytes()
        val digest = java.security.MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }
        if (digest != entry["sha256"].asString) throw BundleMismatch("$file does not match the manifest's SHA-256: the bundle was altered")
        if (entry["size"].asInt != size) throw BundleMismatch("the donor bank is for ${entry["size"].asInt}-px crops, the graphs for $size")
        val box = entry.getAsJsonArray("box").map { it.asInt }.toIntArray()
        return Masks.loadBank(codec.decode(bytes).rgb, entry["count"].asInt, size, box)
    }

    /** The Mask generators this bundle offers: "donors" (Masks v2) and/or "masknet". */
    val maskGenerators: List<String> get() = listOfNotNull(if (donors != null) "donors" else null,
                                                           if ("masknet" in entries) "masknet" else null)

    /** Throws unless this bundle can make `generator`'s Masks. */
    fun require(generator: String) {
        if (generator !in MASK_GENERATORS) throw IllegalArgumentException("unknown Mask generator '$generator'; choose from ${MASK_GENERATORS.joinToString()}")
        if (generator !in maskGenerators) {
            val hint = if (generator == "donors") {
                if (manifest.has("donors")) "open the bundle with a PhotoCodec to decode its donor bank"
                else "export it again with the donor bank (imn-export copies models/donors-256.png)"
            } else "export it with Mask-net"
            throw BundleMismatch("$folder has no $generator Masks (it has ${maskGenerators.joinToString().ifEmpty { "none" }}); $hint")
        }
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

    /** Mask-net's Mask face `(S, S)` of an aligned face crop and a unit identity vector `(D,)`. */
    fun maskFace(face: RgbImage, identity: FloatArray): RgbImage {
        require("masknet")
        return graphs.getValue("masknet").run(listOf(Tensor.fromImage(face), Tensor(intArrayOf(1, identity.size), identity)))[0].toImage()
    }

    /** Masks v2: donor `donor` of the bank over the aligned face crop `(S, S)`. */
    fun donorMask(face: RgbImage, donor: Int): RgbImage {
        require("donors")
        val bank = donors!!
        if (donor !in bank.indices) throw IllegalArgumentException("donor $donor does not exist; the bundle has 0..${bank.size - 1}")
        return Masks.compose(face, bank[donor])
    }

    /** Masked tile `(S, S)`, rounded to the 8 bits a PNG stores. */
    fun hide(protectedTile: RgbImage, maskTile: RgbImage): RgbImage =
        graphs.getValue("hide").run(listOf(Tensor.fromImage(protectedTile), Tensor.fromImage(maskTile)))[0].toImage()

    /** Recovered tile `(S, S)` from a masked tile, aux = 0. */
    fun reveal(maskedTile: RgbImage): RgbImage =
        graphs.getValue("reveal").run(listOf(Tensor.fromImage(maskedTile), Tensor.zeros(1, 3, size, size)))[0].toImage()

    companion object {
        val PIPELINE_GRAPHS = listOf("hide", "reveal")
        val MASK_GENERATORS = listOf("donors", "masknet")  // Masks v2 (the default) and the paper's Mask-net
        const val DONOR_CANDIDATES = 8  // the Python SDK's, and its reasons

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
