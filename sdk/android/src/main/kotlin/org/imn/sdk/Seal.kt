package org.imn.sdk

import com.google.gson.JsonArray
import com.google.gson.JsonObject
import com.google.gson.JsonParser
import org.bouncycastle.crypto.generators.Argon2BytesGenerator
import org.bouncycastle.crypto.params.Argon2Parameters
import java.io.ByteArrayOutputStream
import java.nio.ByteBuffer
import java.security.MessageDigest
import java.security.SecureRandom
import java.text.Normalizer
import java.util.zip.DataFormatException
import java.util.zip.Deflater
import java.util.zip.Inflater
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.SecretKeySpec

/**
 * Sealed recovery (sdk/spec/photo.md §7; sdk/python/imn_sdk/seal.py): the original pixels of
 * each hidden region, compressed without loss and encrypted with AES-256-GCM, in a PNG chunk of
 * their own (`imSd`). The masked pixels are the Mask and nothing else: no network hides the face
 * in them, so no attack on the pixels, the public reveal graph included, gets closer to the
 * person than the Mask itself.
 *
 * Everything secret comes from standard primitives: the per-photo key is HKDF-SHA256 over the
 * user's 256-bit key, or over Argon2id (64 MiB, 3 passes; Bouncy Castle) of a passphrase, with a
 * random 16-byte salt (SecureRandom); the AEAD (javax.crypto) binds the photo's whole clear record
 * (the `imn` chunk's text) as associated data, so a changed record or ciphertext is refused
 * before any plaintext is used. The faces (boxes, landmarks, donors) travel inside the
 * ciphertext, not in the clear.
 *
 * Pixels are coded as PNG coders do, by a predictor then DEFLATE: per channel the plane predictor
 * `left + up − up_left` (zero outside the region), the residual mod 256, the residuals of all
 * regions in order as one raw DEFLATE stream (`Deflater(nowrap = true)`, what Python's zlib
 * writes with wbits −15). Lossy `step` s > 1 stores `(x + s / 2) / s` and recovers
 * `min(255, v · s)`: with s = 3 every pixel is within one level of the original (≥ 48.1 dB).
 */
object Seal {
    const val CHUNK_TYPE = "imSd"   // ancillary, private, safe to copy: travels with the imn chunk
    const val CIPHER = "aes-256-gcm"
    const val PIXELS = "plane-deflate"
    const val KDF = "hkdf-sha256"
    const val KDF_INFO = "imn seal v1"
    /** Argon2id for passphrases: 64 MiB, 3 passes, libsodium's one lane. */
    val ARGON2ID = Argon2Params(memoryKib = 65536, iterations = 3, lanes = 1)
    const val ARGON2_VERSION = 0x13
    const val SALT_BYTES = 16
    const val NONCE_BYTES = 12
    const val TAG_BYTES = 16
    /** `sealQuality` → step: "compact" keeps every pixel within one level (≥ 48.1 dB). */
    val STEPS = linkedMapOf("lossless" to 1, "compact" to 3)
    const val DEFLATE_LEVEL = 1     // level 6 saves ~5% more for 4x the time on photo residuals
    const val MIN_PASSPHRASE_CHARS = 12
    const val MIN_PASSPHRASE_DISTINCT = 6
    const val MIN_PASSPHRASE_BITS = 50
    private val random = SecureRandom()

    /** The AES key and the check value (32 hex digits) that tells a wrong key from a damaged
     *  photo; it costs a guesser nothing the GCM tag would not also tell them. */
    class SealKeys(val aeadKey: ByteArray, val check: String)

    // ---- passphrases ----

    private fun nfc(text: String): String = Normalizer.normalize(text, Normalizer.Form.NFC)

    /** NFC then UTF-8: the same passphrase typed on any keyboard gives the same bytes. */
    fun normalizePassphrase(passphrase: String): ByteArray = nfc(passphrase).toByteArray(Charsets.UTF_8)

    private fun isAsciiDigit(c: Int) = c in 0x30..0x39
    private fun isAsciiLower(c: Int) = c in 0x61..0x7A
    private fun isAsciiUpper(c: Int) = c in 0x41..0x5A

    /** A plain strength estimate: length (in characters, after NFC) × log2 of the character pool
     *  its classes span (ASCII digits 10, lower 26, upper 26, anything else 33). It overrates
     *  phrases of dictionary words, which is why the length floor comes first; it catches the
     *  short, the repetitive and the digits-only. */
    fun passphraseBits(passphrase: String): Double {
        val chars = nfc(passphrase).codePoints().toArray()
        var pool = 0
        if (chars.any { isAsciiDigit(it) }) pool += 10
        if (chars.any { isAsciiLower(it) }) pool += 26
        if (chars.any { isAsciiUpper(it) }) pool += 26
        if (chars.any { !isAsciiDigit(it) && !isAsciiLower(it) && !isAsciiUpper(it) }) pool += 33
        return if (pool == 0) 0.0 else chars.size * kotlin.math.log2(pool.toDouble())
    }

    /** [WeakPassphrase] unless at least 12 characters, 6 different ones and 50 estimated bits. */
    fun checkPassphrase(passphrase: String) {
        val chars = nfc(passphrase).codePoints().toArray()
        if (chars.size < MIN_PASSPHRASE_CHARS) {
            throw WeakPassphrase("a passphrase needs at least $MIN_PASSPHRASE_CHARS characters (this one has ${chars.size}); " +
                                 "a few unrelated words are best")
        }
        if (chars.toSet().size < MIN_PASSPHRASE_DISTINCT) {
            throw WeakPassphrase("a passphrase needs at least $MIN_PASSPHRASE_DISTINCT different characters")
        }
        val bits = passphraseBits(passphrase)
        if (bits < MIN_PASSPHRASE_BITS) {
            throw WeakPassphrase("this passphrase is too easy to guess (about ${Math.rint(bits).toLong()} bits; at least " +
                                 "$MIN_PASSPHRASE_BITS): make it longer, or mix letters, digits and symbols")
        }
    }

    // ---- keys ----

    /** The key, or Argon2id (version 0x13) of the normalised passphrase with the record's
     *  parameters (`argon2` is null for a key). */
    fun keyMaterial(secret: Keys.Secret, salt: ByteArray, argon2: Argon2Params?): ByteArray {
        secret.key?.let { return it.copyOf() }
        requireNotNull(argon2) { "a passphrase is stretched with Argon2id: its parameters are missing" }
        val params = Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
            .withVersion(ARGON2_VERSION)
            .withMemoryAsKB(argon2.memoryKib)
            .withIterations(argon2.iterations)
            .withParallelism(argon2.lanes)
            .withSalt(salt)
            .build()
        val out = ByteArray(Keys.KEY_BYTES)
        Argon2BytesGenerator().apply { init(params) }.generateBytes(normalizePassphrase(secret.passphrase!!), out)
        return out
    }

    /** HKDF-SHA256(material, salt, "imn seal v1") → 48 bytes: the AES key, then the check value. */
    fun deriveKeys(material: ByteArray, salt: ByteArray): SealKeys {
        val okm = Keys.hkdf(material, salt, KDF_INFO.toByteArray(Charsets.US_ASCII), Keys.KEY_BYTES + 16)
        return SealKeys(okm.copyOfRange(0, Keys.KEY_BYTES), Keys.hex(okm.copyOfRange(Keys.KEY_BYTES, okm.size)))
    }

    /** The Argon2id parameters a new photo records for this secret; null for a key (HKDF only). */
    fun kdfEntry(secret: Keys.Secret): Argon2Params? = if (secret.key != null) null else ARGON2ID

    // ---- pixels ----

    /** Residuals `x − left − up + up_left` mod 256 per channel (zero outside the image). */
    fun planeResiduals(pixels: RgbImage): RgbImage {
        val p = pixels.pixels
        val row = pixels.width * 3
        val out = RgbImage(pixels.width, pixels.height)
        for (y in 0 until pixels.height) for (i in y * row until (y + 1) * row) {
            val x = i - y * row
            val left = if (x >= 3) p[i - 3].toInt() else 0
            val up = if (y > 0) p[i - row].toInt() else 0
            val upLeft = if (x >= 3 && y > 0) p[i - row - 3].toInt() else 0
            out.pixels[i] = (p[i] - left - up + upLeft).toByte()  // the low byte: mod 256
        }
        return out
    }

    /** The inverse of [planeResiduals]: running sums mod 256 down the columns, then along rows. */
    fun planePixels(residuals: RgbImage): RgbImage {
        val out = residuals.copy()
        val p = out.pixels
        val row = residuals.width * 3
        for (i in row until p.size) p[i] = (p[i] + p[i - row]).toByte()
        for (y in 0 until residuals.height) for (i in y * row + 3 until (y + 1) * row) p[i] = (p[i] + p[i - 3]).toByte()
        return out
    }

    fun quantize(pixels: RgbImage, step: Int): RgbImage {
        if (step == 1) return pixels
        return RgbImage(pixels.width, pixels.height, ByteArray(pixels.pixels.size) {
            (((pixels.pixels[it].toInt() and 0xFF) + step / 2) / step).toByte()
        })
    }

    fun dequantize(values: RgbImage, step: Int): RgbImage {
        if (step == 1) return values
        return RgbImage(values.width, values.height, ByteArray(values.pixels.size) {
            Math.min((values.pixels[it].toInt() and 0xFF) * step, 255).toByte()
        })
    }

    /** The plaintext: `u32be(len(J)) ‖ J ‖ raw DEFLATE of every region's residuals`, with `J`
     *  the UTF-8 JSON of `inner` (what the photo keeps out of the clear). */
    fun pack(rgb: RgbImage, regions: List<Box>, inner: JsonObject, step: Int): ByteArray {
        val header = inner.toString().toByteArray(Charsets.UTF_8)
        val out = ByteArrayOutputStream()
        out.write(ByteBuffer.allocate(4).putInt(header.size).array())
        out.write(header)
        val deflater = Deflater(DEFLATE_LEVEL, true)
        val buffer = ByteArray(1 shl 16)
        try {
            for (r in regions) {
                deflater.setInput(planeResiduals(quantize(rgb.crop(r.x0, r.y0, r.width, r.height), step)).pixels)
                while (!deflater.needsInput()) out.write(buffer, 0, deflater.deflate(buffer))
            }
            deflater.finish()
            while (!deflater.finished()) out.write(buffer, 0, deflater.deflate(buffer))
        } finally {
            deflater.end()
        }
        return out.toByteArray()
    }

    /** `(inner, one image per region)` from [pack]'s bytes; [ImageModified] when they do not hold
     *  exactly the regions' pixels (only reachable with the key: the tag was right). An `inner`
     *  that is not a JSON object reads as an empty one, as the Python SDK's recover reads it. */
    fun unpack(plaintext: ByteArray, regions: List<Box>, step: Int): Pair<JsonObject, List<RgbImage>> {
        val damaged = ImageModified("the sealed pixels do not match the photo's regions")
        if (plaintext.size < 4) throw damaged
        val length = ByteBuffer.wrap(plaintext).getInt(0).toLong() and 0xFFFFFFFFL
        if (4 + length > plaintext.size) throw damaged
        val inner = try {
            JsonParser.parseString(String(plaintext, 4, length.toInt(), Charsets.UTF_8))
        } catch (e: Exception) {
            throw damaged
        } catch (e: StackOverflowError) {
            throw damaged
        }
        val sizes = regions.map { 3L * it.width * it.height }
        val total = sizes.sum()
        if (total > Int.MAX_VALUE - 1) throw damaged
        val raw = ByteArray(total.toInt())
        val inflater = Inflater(true)
        try {
            val start = 4 + length.toInt()
            inflater.setInput(plaintext, start, plaintext.size - start)
            var filled = 0
            while (filled < raw.size) {
                val n = inflater.inflate(raw, filled, raw.size - filled)
                if (n == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) throw damaged
                filled += n
            }
            // The stream must end exactly there: no more pixels, no bytes after it.
            if (inflater.inflate(ByteArray(1)) != 0 || !inflater.finished() || inflater.remaining != 0) throw damaged
        } catch (e: DataFormatException) {
            throw damaged
        } finally {
            inflater.end()
        }
        var at = 0
        val pixels = regions.mapIndexed { k, r ->
            val residuals = RgbImage(r.width, r.height, raw.copyOfRange(at, at + sizes[k].toInt()))
            at += sizes[k].toInt()
            dequantize(planePixels(residuals), step)
        }
        return (inner as? JsonObject ?: JsonObject()) to pixels
    }

    // ---- the record's entry and the chunk ----

    /** The record's `sealed` entry for a new photo (fresh salt and nonce) whose ciphertext will
     *  have `bytes` bytes, and its keys. A passphrase must pass [checkPassphrase]. */
    fun newEntry(secret: Keys.Secret, step: Int, bytes: Long): Pair<SealedEntry, SealKeys> {
        secret.passphrase?.let { checkPassphrase(it) }
        val salt = ByteArray(SALT_BYTES).also { random.nextBytes(it) }
        val nonce = ByteArray(NONCE_BYTES).also { random.nextBytes(it) }
        val argon2 = kdfEntry(secret)
        val keys = deriveKeys(keyMaterial(secret, salt, argon2), salt)
        return SealedEntry(secret.kind, argon2, Keys.hex(salt), Keys.hex(nonce), keys.check, step, bytes) to keys
    }

    private fun gcm(mode: Int, keys: SealKeys, entry: SealedEntry, recordText: String): Cipher =
        Cipher.getInstance("AES/GCM/NoPadding").apply {
            init(mode, SecretKeySpec(keys.aeadKey, "AES"), GCMParameterSpec(8 * TAG_BYTES, Keys.unhex(entry.nonce)))
            updateAAD(recordText.toByteArray(Charsets.UTF_8))
        }

    /** AES-256-GCM of `plaintext` (ciphertext then the 16-byte tag) with the `imn` chunk's exact
     *  text as associated data. */
    fun encrypt(keys: SealKeys, entry: SealedEntry, plaintext: ByteArray, recordText: String): ByteArray =
        gcm(Cipher.ENCRYPT_MODE, keys, entry, recordText).doFinal(plaintext)

    /** The photo's keys from the user's secret; [WrongKey] (nothing decrypted) when the check
     *  value disagrees, [KeyRequired] without a secret. */
    fun openKeys(entry: SealedEntry, secret: Keys.Secret?): SealKeys {
        if (secret == null) {
            throw KeyRequired("this photo is sealed: pass its key file or passphrase to recover it")
        }
        if (entry.kind != secret.kind) throw WrongKey("this photo was sealed with a ${entry.kind}, not a ${secret.kind}")
        val salt = Keys.unhex(entry.salt)
        val keys = deriveKeys(keyMaterial(secret, salt, entry.argon2), salt)
        if (!MessageDigest.isEqual(keys.check.toByteArray(), entry.check.toByteArray())) {
            throw WrongKey("wrong key: it does not open this photo (nothing was written)")
        }
        return keys
    }

    /** The plaintext, or [ImageModified] when the ciphertext or the record was altered (GCM's
     *  tag is checked before any plaintext is returned). */
    fun decrypt(keys: SealKeys, entry: SealedEntry, ciphertext: ByteArray, recordText: String): ByteArray =
        try {
            gcm(Cipher.DECRYPT_MODE, keys, entry, recordText).doFinal(ciphertext)
        } catch (e: AEADBadTagException) {
            throw ImageModified("the sealed data or the photo's record was altered after protection: nothing was recovered")
        }

}

/** Argon2id's cost: memory in KiB, passes and lanes (photo.md §7.1). */
data class Argon2Params(val memoryKib: Int, val iterations: Int, val lanes: Int)

/** A sealed photo's `sealed` entry (photo.md §7.3): how to derive its keys and open its `imSd`
 *  chunk, never the key. `argon2` is null for a key (HKDF only); `bytes` is the chunk's length. */
class SealedEntry(val kind: String, val argon2: Argon2Params?, val salt: String, val nonce: String, val check: String,
                  val step: Int, val bytes: Long) {
    /** The entry as JSON, keys sorted (the Python SDK's layout). */
    fun toJson(): JsonObject = JsonObject().apply {
        addProperty("bytes", bytes)
        addProperty("check", check)
        addProperty("cipher", Seal.CIPHER)
        if (argon2 == null) addProperty("kdf", Seal.KDF) else add("kdf", JsonObject().apply {
            add("argon2id", JsonObject().apply {
                addProperty("iterations", argon2.iterations); addProperty("lanes", argon2.lanes)
                addProperty("memory_kib", argon2.memoryKib)
            })
            addProperty("then", Seal.KDF)
        })
        addProperty("kind", kind)
        addProperty("nonce", nonce)
        addProperty("pixels", Seal.PIXELS)
        addProperty("salt", salt)
        addProperty("step", step)
    }
}
