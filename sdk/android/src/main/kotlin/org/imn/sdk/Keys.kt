package org.imn.sdk

import org.bouncycastle.crypto.digests.SHA256Digest
import org.bouncycastle.crypto.generators.HKDFBytesGenerator
import org.bouncycastle.crypto.generators.SCrypt
import org.bouncycastle.crypto.params.HKDFParameters
import java.io.File
import java.security.MessageDigest
import java.security.SecureRandom
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec

/**
 * The user's secret and key files, for sealed photos (sdk/spec/photo.md §7: [Seal] derives their
 * keys) and for the keyed photos of earlier releases, which every SDK still recovers but none
 * writes any more (§8; sdk/python/imn_sdk/keys.py). In those, each tile of the cover (the
 * Mask-blended photo; the face itself in photos of the first keyed release) was cut into
 * `piece`-pixel pieces, permuted and turned by key-derived values around hiding: obfuscation,
 * since an attacker with the bundle and the photo can undo it (README, "Threat model"). Their
 * secrets come from standard primitives: scrypt and HKDF-SHA256 (Bouncy Castle), HMAC-SHA256
 * (javax.crypto); keys from SecureRandom.
 */
object Keys {
    const val PIECE = 32
    const val KEY_BYTES = 32
    const val KEY_FILE_PREFIX = "imn-key-v1:"
    /** What the key scrambles; records without the entry scrambled the face. */
    val SCRAMBLES = listOf("cover", "face")
    private const val SCRYPT_N = 1 shl 15
    private const val SCRYPT_R = 8
    private const val SCRYPT_P = 1
    private val random = SecureRandom()

    fun generateKey(): ByteArray = ByteArray(KEY_BYTES).also { random.nextBytes(it) }

    fun hex(bytes: ByteArray): String = bytes.joinToString("") { "%02x".format(it) }

    fun unhex(text: String): ByteArray {
        require(text.length % 2 == 0 && text.all { it in "0123456789abcdefABCDEF" }) { "not hexadecimal" }
        return ByteArray(text.length / 2) { text.substring(2 * it, 2 * it + 2).toInt(16).toByte() }
    }

    /** `imn-key-v1:<64 hex>` in a new file; never replaces one unless `overwrite`. */
    fun writeKeyFile(file: File, key: ByteArray, overwrite: Boolean = false): File {
        if (file.exists() && !overwrite) {
            throw ImnException("$file exists; a key file is never replaced without overwrite " +
                               "(photos protected with the old key would be lost)")
        }
        file.writeText(KEY_FILE_PREFIX + hex(key) + "\n")
        file.setReadable(false, false); file.setReadable(true, true)
        file.setWritable(false, false); file.setWritable(true, true)
        return file
    }

    fun readKeyFile(file: File): ByteArray {
        if (!file.isFile) throw KeyRequired("$file: no such key file (make one with imn keygen)")
        val text = file.readText().trim()
        if (!text.startsWith(KEY_FILE_PREFIX)) throw KeyRequired("$file is not an IMN key file (it should start with $KEY_FILE_PREFIX)")
        val key = try { unhex(text.substring(KEY_FILE_PREFIX.length)) } catch (e: IllegalArgumentException) {
            throw KeyRequired("$file: the key is not hexadecimal")
        }
        if (key.size != KEY_BYTES) throw KeyRequired("$file: a key has $KEY_BYTES bytes, this one ${key.size}")
        return key
    }

    fun hkdf(ikm: ByteArray, salt: ByteArray?, info: ByteArray, length: Int): ByteArray =
        ByteArray(length).also { HKDFBytesGenerator(SHA256Digest()).apply { init(HKDFParameters(ikm, salt, info)) }.generateBytes(it, 0, length) }

    fun hkdfExpand(prk: ByteArray, info: ByteArray, length: Int): ByteArray =
        ByteArray(length).also {
            HKDFBytesGenerator(SHA256Digest()).apply { init(HKDFParameters.skipExtractParameters(prk, info)) }.generateBytes(it, 0, length)
        }

    /** What the user holds: a 256-bit key, or a passphrase, stretched per photo (Argon2id for a
     *  sealed photo, [Seal.keyMaterial]; scrypt for a keyed photo of an earlier release). */
    class Secret private constructor(val key: ByteArray?, val passphrase: String?) {
        val kind get() = if (key != null) "key" else "passphrase"

        /** A keyed photo's per-photo key (§8): HKDF-SHA256 over the key (or the scrypt-stretched
         *  passphrase). */
        fun photoKey(salt: ByteArray): ByteArray {
            val material = key ?: SCrypt.generate(passphrase!!.toByteArray(Charsets.UTF_8), salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES)
            return hkdf(material, salt, "imn photo key v1".toByteArray(), KEY_BYTES)
        }

        companion object {
            fun ofKey(key: ByteArray): Secret {
                require(key.size == KEY_BYTES) { "a key has $KEY_BYTES bytes, got ${key.size}" }
                return Secret(key.copyOf(), null)
            }

            fun ofPassphrase(passphrase: String): Secret {
                require(passphrase.length >= 8) { "a passphrase needs at least 8 characters" }
                return Secret(null, passphrase)
            }
        }
    }

    fun checkValue(photoKey: ByteArray): String {
        val mac = Mac.getInstance("HmacSHA256").apply { init(SecretKeySpec(photoKey, "HmacSHA256")) }
        return hex(mac.doFinal("imn key check v1".toByteArray())).substring(0, 32)
    }

    /** A piece permutation and turns: output piece i is input piece `order[i]`, turned. */
    class Scramble(val order: IntArray, val turns: IntArray)

    /** (order, turns) for `count` pieces from `9·count` key-derived bytes: order = the stable
     *  argsort of one big-endian uint64 per piece, turn = the next byte mod 8. */
    fun scrambleFromBytes(material: ByteArray, count: Int): Scramble {
        require(material.size >= 9 * count) { "need ${9 * count} bytes of key material, got ${material.size}" }
        val values = LongArray(count) { i -> (0 until 8).fold(0L) { acc, b -> (acc shl 8) or (material[8 * i + b].toLong() and 0xFF) } }
        val order = (0 until count).sortedWith(Comparator { a, b -> java.lang.Long.compareUnsigned(values[a], values[b]) })
        return Scramble(order.toIntArray(), IntArray(count) { (material[8 * count + it].toInt() and 0xFF) % 8 })
    }

    /** The scramble of the tile at (x, y) of region `region`: HKDF-Expand of the photo key. */
    fun tileScramble(photoKey: ByteArray, region: Int, x: Int, y: Int, count: Int): Scramble =
        scrambleFromBytes(hkdfExpand(photoKey, "imn tile v1 $region $x $y".toByteArray(), 9 * count), count)

    // Source (row, col) inside a piece of side n for output (i, j) after k counter-clockwise
    // quarter turns (NumPy's rot90) and, when `mirrored`, a left-right flip applied last.
    private fun source(i: Int, j: Int, n: Int, k: Int, mirrored: Boolean): Int {
        var r = i
        var c = if (mirrored) n - 1 - j else j
        repeat(k) { val t = r; r = c; c = n - 1 - t }  // rot90: out[r][c] = in[c][n-1-r]
        return r * n + c
    }

    private fun movePieces(image: RgbImage, s: Scramble, piece: Int, forward: Boolean): RgbImage {
        val across = image.width / piece
        require(image.width % piece == 0 && image.height % piece == 0 && across * (image.height / piece) == s.order.size) {
            "a ${image.width}x${image.height} tile is not ${s.order.size} pieces of $piece px"
        }
        val out = RgbImage(image.width, image.height)
        for (p in s.order.indices) {
            val turn = s.turns[p]
            val from = if (forward) s.order[p] else p
            val to = if (forward) p else s.order[p]
            val fx = (from % across) * piece
            val fy = (from / across) * piece
            val tx = (to % across) * piece
            val ty = (to / across) * piece
            for (i in 0 until piece) for (j in 0 until piece) {
                // forward: out = mirror(rot(in)); backward: out = rot⁻¹(mirror(in)), the inverse map.
                val src = if (forward) source(i, j, piece, turn % 4, turn >= 4)
                          else inverseSource(i, j, piece, turn % 4, turn >= 4)
                val si = ((fy + src / piece) * image.width + fx + src % piece) * 3
                val di = ((ty + i) * image.width + tx + j) * 3
                out.pixels[di] = image.pixels[si]; out.pixels[di + 1] = image.pixels[si + 1]; out.pixels[di + 2] = image.pixels[si + 2]
            }
        }
        return out
    }

    // Where output (i, j) of the inverse comes from: the position the forward map sends (i, j) to.
    private fun inverseSource(i: Int, j: Int, n: Int, k: Int, mirrored: Boolean): Int {
        var r = i
        var c = j
        repeat(k) { val t = c; c = r; r = n - 1 - t }  // undo one rot90: in[c][n-1-r] ← out[r][c]
        if (mirrored) c = n - 1 - c
        return r * n + c
    }

    fun scramble(tile: RgbImage, s: Scramble, piece: Int = PIECE): RgbImage = movePieces(tile, s, piece, true)

    fun unscramble(tile: RgbImage, s: Scramble, piece: Int = PIECE): RgbImage = movePieces(tile, s, piece, false)

    /** The recovered tile at photo position (x, y) of region [region] of a keyed photo (§8): the
     *  key's scramble goes around the network where protect put it, on the masked tile before
     *  [reveal] ("cover") or on the revealed face after it ("face"). */
    fun keyedReveal(reveal: (RgbImage) -> RgbImage, tile: RgbImage, photoKey: ByteArray, scrambles: String,
                    region: Int, x: Int, y: Int): RgbImage {
        val s = tileScramble(photoKey, region, x, y, (tile.width / PIECE) * (tile.width / PIECE))
        return if (scrambles == "cover") reveal(scramble(tile, s)) else unscramble(reveal(tile), s)
    }

    /** The photo key for a keyed photo's record (§8); [WrongKey] when the HMAC disagrees. */
    fun openKeyRecord(record: KeyRecord, secret: Secret?): ByteArray {
        if (secret == null) throw KeyRequired("this photo was protected with a key: pass its key file or passphrase to recover it")
        if (record.kind != secret.kind) throw WrongKey("this photo was protected with a ${record.kind}, not a ${secret.kind}")
        val photoKey = secret.photoKey(unhex(record.salt))
        if (!MessageDigest.isEqual(checkValue(photoKey).toByteArray(), record.check.toByteArray())) {
            throw WrongKey("wrong key: it does not open this photo (nothing was written)")
        }
        return photoKey
    }
}
