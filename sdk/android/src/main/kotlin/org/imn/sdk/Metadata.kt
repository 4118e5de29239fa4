package org.imn.sdk

import com.google.gson.JsonArray
import com.google.gson.JsonElement
import com.google.gson.JsonObject
import com.google.gson.JsonParser
import com.google.gson.JsonPrimitive
import java.security.MessageDigest

/**
 * The `imn` PNG chunk: what a protected photo records so it can be recovered, and a digest of the
 * masked pixels so later damage is detected before anything is revealed (sdk/spec/photo.md §5,
 * sealed photos §7.3). The reader is where untrusted bytes enter: it accepts exactly the Python
 * SDK's schema.
 */
object Metadata {
    const val CHUNK_KEY = "imn"
    const val FORMAT_VERSION = 1          // keyless and keyed photos of earlier releases: tiles edge to edge
    const val SEALED_FORMAT_VERSION = 2   // sealed photos: readers of format 1 must not run the network on them
    const val KEYLESS_FORMAT_VERSION = 3  // keyless photos: tiles overlap by 2 * margin (a format-1 reader
                                          // would reveal them on the wrong grid, so it must refuse them)
    val FORMATS = listOf(FORMAT_VERSION, SEALED_FORMAT_VERSION, KEYLESS_FORMAT_VERSION)
    private const val MAX_CHUNK_CHARS = 1 shl 20
    private val HEX = Regex("[0-9a-f]{32}")
    // Bounds on what a sealed record may ask of the recipient's device (a crafted photo could
    // otherwise demand gigabytes per guess): Argon2id up to 256 MiB (four times what protect
    // writes, and what a phone can spare) and 10 passes.
    private val ARGON2_MEMORY_KIB = 8192..(1 shl 18)
    private val ARGON2_ITERATIONS = 1..10
    private val ARGON2_LANES = 1..8

    /** sha256 over each region's `"x,y,width,height;"` and its `(h, w, 3)` masked bytes, in order. */
    fun pixelDigest(rgb: RgbImage, regions: List<Box>): String {
        val digest = MessageDigest.getInstance("SHA-256")
        for (r in regions) {
            digest.update("${r.x0},${r.y0},${r.width},${r.height};".toByteArray(Charsets.US_ASCII))
            digest.update(rgb.crop(r.x0, r.y0, r.width, r.height).pixels)
        }
        return "sha256:" + digest.digest().joinToString("") { "%02x".format(it) }
    }

    /** A sealed photo's digest (format 2): sha256 over `"rgb;"` and every RGB byte, then, with
     *  an alpha channel, `"alpha;"` and its bytes. The whole image: recover promises the original
     *  photo bit for bit, and the record holding this digest is authenticated. */
    fun photoDigest(rgb: RgbImage, alpha: ByteArray?): String {
        val digest = MessageDigest.getInstance("SHA-256")
        digest.update("rgb;".toByteArray(Charsets.US_ASCII))
        digest.update(rgb.pixels)
        if (alpha != null) {
            digest.update("alpha;".toByteArray(Charsets.US_ASCII))
            digest.update(alpha)
        }
        return "sha256:" + digest.digest().joinToString("") { "%02x".format(it) }
    }

    fun regionJson(r: Box): JsonObject = JsonObject().apply {
        addProperty("x", r.x0); addProperty("y", r.y0); addProperty("width", r.width); addProperty("height", r.height)
    }

    /** A keyless photo's record (photo.md §5, format 3). */
    fun keylessRecord(width: Int, height: Int, bundle: JsonObject, margin: Int, regions: List<Box>, faces: JsonArray,
                      masks: String, digest: String, mode: String): JsonObject = JsonObject().apply {
        addProperty("format", KEYLESS_FORMAT_VERSION)
        add("size", JsonArray().apply { add(width); add(height) })
        add("bundle", bundle)
        addProperty("margin", margin)
        add("regions", JsonArray().apply { regions.forEach { add(regionJson(it)) } })
        add("faces", faces)
        addProperty("masks", masks)
        addProperty("digest", digest)
        if (mode == "L") addProperty("mode", "L")  // recover gives it back as grayscale (absent: RGB)
    }

    /** A sealed photo's record (photo.md §7.3), its keys in sorted order as the Python SDK's
     *  `dump_record` writes them, so both SDKs store the same text for the same photo. */
    fun sealedRecord(width: Int, height: Int, regions: List<Box>, digest: String, entry: SealedEntry, mode: String): JsonObject =
        JsonObject().apply {
            addProperty("digest", digest)
            addProperty("format", SEALED_FORMAT_VERSION)
            if (mode == "L") addProperty("mode", "L")  // recover gives it back as grayscale (absent: RGB)
            add("regions", JsonArray().apply {
                regions.forEach { r ->
                    add(JsonObject().apply {
                        addProperty("height", r.height); addProperty("width", r.width); addProperty("x", r.x0); addProperty("y", r.y0)
                    })
                }
            })
            add("sealed", entry.toJson())
            add("size", JsonArray().apply { add(width); add(height) })
        }

    private fun fail(message: String): Nothing = throw InvalidMetadata("imn metadata: $message")

    private fun int(value: JsonElement?, name: String, low: Int = 0, high: Int = 1 shl 20): Int =
        long(value, name, low.toLong(), high.toLong()).toInt()

    private fun long(value: JsonElement?, name: String, low: Long, high: Long): Long {
        val p = value as? JsonPrimitive
        val number = if (p != null && p.isNumber) p.asNumber.toString() else null
        val v = number?.toLongOrNull()
        if (v == null || v < low || v > high) fail("$name must be an integer in [$low, $high], got $value")
        return v
    }

    private fun hex(value: String?, digits: Int, name: String): String {
        if (value == null || value.length != digits || !value.all { it in "0123456789abcdef" }) {
            fail("sealed.$name must be $digits lowercase hex digits")
        }
        return value
    }

    /** photo.md §7.3: exactly the entry protect writes, within bounds a device can afford. */
    private fun sealedEntry(value: JsonElement?, regionArea: Long): SealedEntry {
        val entry = value as? JsonObject ?: fail("a format-2 photo needs a sealed entry")
        if (string(entry, "cipher") != Seal.CIPHER || string(entry, "pixels") != Seal.PIXELS) {
            fail("sealed photos use aes-256-gcm over plane-deflate pixels")
        }
        val kdf = entry.get("kdf")
        val argon2 = when (string(entry, "kind")) {
            "key" -> {
                if (kdf !is JsonPrimitive || !kdf.isString || kdf.asString != Seal.KDF) fail("a sealed key photo derives with hkdf-sha256")
                null
            }
            "passphrase" -> {
                val kdfObject = kdf as? JsonObject
                val params = kdfObject?.get("argon2id") as? JsonObject
                if (kdfObject == null || params == null || string(kdfObject, "then") != Seal.KDF ||
                    kdfObject.keySet() != setOf("argon2id", "then")) {
                    fail("a sealed passphrase photo derives with argon2id then hkdf-sha256")
                }
                Argon2Params(
                    int(params.get("memory_kib"), "sealed.kdf.argon2id.memory_kib", ARGON2_MEMORY_KIB.first, ARGON2_MEMORY_KIB.last),
                    int(params.get("iterations"), "sealed.kdf.argon2id.iterations", ARGON2_ITERATIONS.first, ARGON2_ITERATIONS.last),
                    int(params.get("lanes"), "sealed.kdf.argon2id.lanes", ARGON2_LANES.first, ARGON2_LANES.last))
            }
            else -> fail("sealed.kind must be key or passphrase")
        }
        val salt = hex(string(entry, "salt"), 32, "salt")
        val nonce = hex(string(entry, "nonce"), 24, "nonce")
        val check = hex(string(entry, "check"), 32, "check")
        val step = int(entry.get("step"), "sealed.step", 1, 16)
        // DEFLATE never grows data by more than 5 bytes per 16 KB block, plus a 1 MB header allowance.
        val bytes = long(entry.get("bytes"), "sealed.bytes", 16, 3 * regionArea * 1001 / 1000 + (1 shl 20))
        return SealedEntry(string(entry, "kind")!!, argon2, salt, nonce, check, step, bytes)
    }

    private fun string(o: JsonObject, name: String): String? =
        (o.get(name) as? JsonPrimitive)?.takeIf { it.isString }?.asString

    /** Five [x, y] pairs of finite numbers within ±2^20, not all one point (recover rebuilds each
     *  face's blend from them); null otherwise. */
    private fun landmarks(value: JsonElement): Array<DoubleArray>? {
        if (!value.isJsonArray || value.asJsonArray.size() != 5) return null
        val points = value.asJsonArray.map { p ->
            if (!p.isJsonArray || p.asJsonArray.size() != 2) return null
            DoubleArray(2) { i ->
                val v = p.asJsonArray[i] as? JsonPrimitive
                val d = if (v != null && v.isNumber) v.asDouble else return null
                if (!(Math.abs(d) <= (1 shl 20))) return null
                d
            }
        }
        val xs = points.map { it[0] }
        val ys = points.map { it[1] }
        return if (xs.max()!! - xs.min()!! + ys.max()!! - ys.min()!! >= 1) points.toTypedArray() else null
    }

    /** The validated record from a PNG's text chunks; [NotProtected] when there is none. */
    fun parseRecord(text: Map<String, String>): Record {
        val raw = text[CHUNK_KEY] ?: throw NotProtected(
            "no IMN metadata in this image: it was not protected by IMN, or an app stripped the " +
            "metadata when saving it (nothing can be recovered)")
        if (raw.length > MAX_CHUNK_CHARS) fail("not text, or larger than 1 MB")
        val json = try {
            JsonParser.parseString(raw)
        } catch (e: Exception) {
            throw InvalidMetadata("imn metadata is not valid JSON (${e.message})")
        } catch (e: StackOverflowError) {
            throw InvalidMetadata("imn metadata is not valid JSON (nested too deeply)")
        }
        val record = json as? JsonObject ?: fail("expected a JSON object")
        val versionValue = record.get("format")
        val version = (versionValue as? JsonPrimitive)?.takeIf { it.isNumber }?.asNumber?.toString()?.toIntOrNull()
        if (version == null || version !in FORMATS) {
            throw InvalidMetadata("imn metadata format $versionValue; this SDK reads formats ${FORMATS.joinToString(", ")}")
        }
        val sealed = version == SEALED_FORMAT_VERSION
        val size = record.get("size")
        if (size == null || !size.isJsonArray || size.asJsonArray.size() != 2) fail("size must be [width, height]")
        val width = int(size.asJsonArray[0], "size", 1)
        val height = int(size.asJsonArray[1], "size", 1)
        // A sealed photo names no bundle (none is needed to open it): its regions are any pixels.
        val bundle = if (sealed) null else record.get("bundle") as? JsonObject
        if (!sealed && (bundle == null || listOf("checkpoint_sha256", "target", "precision").any { string(bundle, it) == null })) {
            fail("bundle must name checkpoint_sha256, target, precision")
        }
        val tile = if (bundle == null) 1 else int(bundle.get("tile"), "bundle.tile", 2)
        var margin = 0
        if (version == KEYLESS_FORMAT_VERSION) {
            // At most a quarter tile, so a crafted record cannot ask for millions of tiles.
            margin = int(record.get("margin"), "margin", 0, tile / 4)
            if (margin % 2 != 0) fail("margin must be even, got $margin")
        } else if (record.has("margin")) {
            fail("a margin needs format $KEYLESS_FORMAT_VERSION")
        }
        val regionList = record.get("regions")
        if (regionList == null || !regionList.isJsonArray || regionList.asJsonArray.size() !in 1..4096) {
            fail("regions must be a non-empty list")
        }
        val regions = regionList.asJsonArray.map { e ->
            val r = e as? JsonObject ?: fail("each region must be an object")
            val x = int(r.get("x"), "region.x")
            val y = int(r.get("y"), "region.y")
            val w = int(r.get("width"), "region.width", tile)
            val h = int(r.get("height"), "region.height", tile)
            if (!Tiles.fits(w, tile, margin) || !Tiles.fits(h, tile, margin) || x + w > width || y + h > height) {
                fail("region $r is not whole tiles inside the image")
            }
            Box(x, y, x + w, y + h)
        }
        // Protect writes regions that never overlap, so they cover at most the photo: anything
        // else is crafted and would make recover reveal the same pixels again and again.
        if (regions.fold(0L) { a, r -> a + r.width.toLong() * r.height } > width.toLong() * height) fail("the regions cover more than the photo")
        for (i in regions.indices) for (j in i + 1 until regions.size) {
            if (regions[i].overlaps(regions[j])) fail("regions overlap")
        }
        val faceList = record.get("faces") ?: JsonArray()
        if (!faceList.isJsonArray || faceList.asJsonArray.size() > 4096) fail("faces must be a list")
        val faces = faceList.asJsonArray.map { f ->
            (f as? JsonObject)?.get("landmarks")?.let { landmarks(it) } ?: fail("each face needs five distinct [x, y] landmarks")
        }
        val digest = string(record, "digest")
        if (digest == null || !digest.startsWith("sha256:") || digest.length != 71) {
            fail("digest must be 'sha256:' + 64 hex digits")
        }
        val mode = if (record.has("mode")) string(record, "mode") else "RGB"
        if (mode !in setOf("RGB", "L")) fail("mode must be RGB or L")
        if (sealed) {
            if (listOf("bundle", "keyed", "key", "faces").any { record.has(it) }) {
                fail("a sealed record keeps no bundle, no key scramble and no faces in the clear")
            }
            val entry = sealedEntry(record.get("sealed"), regions.fold(0L) { a, r -> a + r.width.toLong() * r.height })
            return Record(width, height, null, tile, 0, regions, faces, digest, null, record, mode!!, version, entry)
        }
        if (record.has("sealed")) fail("a sealed entry needs format $SEALED_FORMAT_VERSION")
        val keyedValue = record.get("keyed") ?: JsonPrimitive(false)
        if (keyedValue !is JsonPrimitive || !keyedValue.isBoolean) fail("keyed must be true or false")
        if (keyedValue.asBoolean && version != FORMAT_VERSION) fail("keyed photos are format $FORMAT_VERSION (earlier releases)")
        var key: KeyRecord? = null
        if (keyedValue.asBoolean) {
            val k = record.get("key") as? JsonObject
            val kind = k?.let { string(it, "kind") }
            if (k == null || kind !in setOf("key", "passphrase")) fail("a keyed photo needs a key entry of kind key or passphrase")
            val hex = listOf("salt", "check").map { name ->
                string(k, name)?.takeIf { HEX.matches(it) } ?: fail("key.$name must be 32 lowercase hex digits")
            }
            val piece = int(k.get("piece"), "key.piece", 2)
            if (tile % piece != 0) fail("key.piece $piece does not divide the tile $tile")
            val scrambles = if (k.has("scrambles")) string(k, "scrambles") else "face"
            if (scrambles !in Keys.SCRAMBLES) fail("key.scrambles must be cover or face")
            key = KeyRecord(kind!!, hex[0], hex[1], piece, scrambles!!)
        }
        return Record(width, height, bundle!!, tile, margin, regions, faces, digest, key, record, mode!!, version)
    }

    /** Five valid landmarks of each face record that has them (a sealed photo's faces come from
     *  its plaintext, which the tag vouches for; recover only reports them). */
    fun faceLandmarks(faces: JsonArray): List<Array<DoubleArray>> =
        faces.mapNotNull { f -> (f as? JsonObject)?.get("landmarks")?.let { landmarks(it) } }
}

/** A keyed photo's `key` entry (photo.md §8): never the key, only its salt and check value. */
class KeyRecord(val kind: String, val salt: String, val check: String, val piece: Int, val scrambles: String = "cover")

/** A validated `imn` record: [faces] holds each face's five landmarks; [json] is the whole object;
 *  [mode] is the protected photo's own: "L" (grayscale) or "RGB" (absent from the record).
 *  A sealed photo ([format] 2) has [sealed] and no [bundle] (its [tile] is 1: regions are any
 *  rectangles); a keyed photo of an earlier release has [key]; [margin] is half the overlap of
 *  neighbouring tiles (format 3; 0 before). */
class Record(val width: Int, val height: Int, val bundle: JsonObject?, val tile: Int, val margin: Int, val regions: List<Box>,
             val faces: List<Array<DoubleArray>>, val digest: String, val key: KeyRecord?, val json: JsonObject,
             val mode: String = "RGB", val format: Int = Metadata.FORMAT_VERSION, val sealed: SealedEntry? = null) {
    val isSealed: Boolean get() = sealed != null
}
