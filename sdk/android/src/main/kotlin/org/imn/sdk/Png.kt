package org.imn.sdk

import java.io.ByteArrayOutputStream
import java.nio.ByteBuffer
import java.util.zip.CRC32
import java.util.zip.Deflater
import java.util.zip.DeflaterOutputStream
import java.util.zip.InflaterInputStream

/**
 * PNG text chunks, read and written at the byte level: platform encoders (Android's
 * `Bitmap.compress`, iOS' ImageIO) cannot write an iTXt chunk, so the SDK inserts the `imn`
 * chunk into the encoder's bytes (PNG spec §11.3.4; what the Python SDK writes through Pillow).
 * Likewise private chunks (a sealed photo's `imSd`, photo.md §7), the IHDR header (bit depth and
 * colour type, which platform decoders hide) and grayscale PNGs, which platform encoders cannot
 * write either.
 */
object Png {
    private val SIGNATURE = byteArrayOf(0x89.toByte(), 'P'.toByte(), 'N'.toByte(), 'G'.toByte(), 13, 10, 26, 10)
    private const val MAX_TEXT_BYTES = 1 shl 20
    // All text chunks together, as Pillow's MAX_TEXT_MEMORY: a few KB of zlib can claim far more.
    private const val MAX_TEXT_TOTAL = 64L shl 20

    fun isPng(bytes: ByteArray): Boolean = bytes.size >= 8 && bytes.copyOf(8).contentEquals(SIGNATURE)

    /** A chunk of `png` at `start`; its data is copied only when asked for (IDAT is most of a file). */
    private class Chunk(val type: String, val start: Int, private val png: ByteArray, private val length: Int) {
        val data: ByteArray get() = png.copyOfRange(start + 8, start + 8 + length)
    }

    /** A PNG's IHDR: size, bits per sample, colour type (0 gray, 2 RGB, 3 palette, 4 gray + alpha,
     *  6 RGBA). */
    class Header(val width: Int, val height: Int, val bitDepth: Int, val colourType: Int) {
        val gray: Boolean get() = colourType == 0 || colourType == 4
    }

    /** The IHDR chunk, which the PNG spec puts first. */
    fun header(bytes: ByteArray): Header {
        if (!isPng(bytes)) throw InvalidImage("not a PNG file")
        if (bytes.size < 8 + 8 + 13 || String(bytes, 12, 4, Charsets.ISO_8859_1) != "IHDR" || ByteBuffer.wrap(bytes).getInt(8) != 13) {
            throw InvalidImage("the file is damaged or truncated (no PNG header)")
        }
        val b = ByteBuffer.wrap(bytes)
        return Header(b.getInt(16), b.getInt(20), bytes[24].toInt() and 0xFF, bytes[25].toInt() and 0xFF)
    }

    private fun chunk(type: String, data: ByteArray): ByteArray {
        val chunk = ByteBuffer.allocate(12 + data.size)
        chunk.putInt(data.size).put(type.toByteArray(Charsets.ISO_8859_1)).put(data)
        chunk.putInt(CRC32().apply { update(chunk.array(), 4, 4 + data.size) }.value.toInt())
        return chunk.array()
    }

    /** An 8-bit grayscale PNG (gray + alpha with `alpha`) of `width`×`height` `luma` bytes, no
     *  filter, deflate level 1 (the Python SDK's PNG_COMPRESS_LEVEL). */
    fun encodeGray(luma: ByteArray, alpha: ByteArray?, width: Int, height: Int): ByteArray {
        require(luma.size == width * height && (alpha == null || alpha.size == luma.size)) { "expected $width x $height samples" }
        val channels = if (alpha != null) 2 else 1
        val ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height)
            .put(8.toByte()).put((if (alpha != null) 4 else 0).toByte()).put(0.toByte()).put(0.toByte()).put(0.toByte())
        val idat = ByteArrayOutputStream()
        DeflaterOutputStream(idat, Deflater(1), 1 shl 16).use { out ->
            val row = ByteArray(1 + width * channels)  // filter type 0, then the samples
            for (y in 0 until height) {
                for (x in 0 until width) {
                    row[1 + x * channels] = luma[y * width + x]
                    if (alpha != null) row[2 + x * 2] = alpha[y * width + x]
                }
                out.write(row)
            }
        }
        return SIGNATURE + chunk("IHDR", ihdr.array()) + chunk("IDAT", idat.toByteArray()) + chunk("IEND", ByteArray(0))
    }

    private fun chunks(bytes: ByteArray): List<Chunk> {
        if (!isPng(bytes)) throw InvalidImage("not a PNG file")
        val out = ArrayList<Chunk>()
        val buffer = ByteBuffer.wrap(bytes)
        var at = 8
        while (at + 12 <= bytes.size) {
            val length = buffer.getInt(at)
            if (length < 0 || at + 12L + length > bytes.size) throw InvalidImage("the PNG is truncated")
            val type = String(bytes, at + 4, 4, Charsets.ISO_8859_1)
            val crc = CRC32().apply { update(bytes, at + 4, 4 + length) }.value.toInt()
            if (crc != buffer.getInt(at + 8 + length)) throw InvalidImage("the PNG is damaged (bad $type checksum)")
            out.add(Chunk(type, at, bytes, length))
            at += 12 + length
            if (type == "IEND") break
        }
        return out
    }

    private fun inflate(data: ByteArray): ByteArray {
        val out = ByteArrayOutputStream()
        InflaterInputStream(data.inputStream()).use { input ->
            val block = ByteArray(8192)
            while (true) {
                val n = input.read(block)
                if (n < 0) break
                out.write(block, 0, n)
                if (out.size() > MAX_TEXT_BYTES) throw InvalidMetadata("imn metadata: not text, or larger than 1 MB")
            }
        }
        return out.toByteArray()
    }

    /** The tEXt, zTXt and iTXt chunks of a PNG, keyword → text (first of each keyword wins). */
    fun textChunks(bytes: ByteArray): Map<String, String> {
        val out = LinkedHashMap<String, String>()
        var total = 0L
        for (chunk in chunks(bytes)) {
            if (chunk.type !in setOf("tEXt", "zTXt", "iTXt")) continue
            val d = chunk.data
            val nul = d.indexOf(0)
            if (nul <= 0) continue
            val key = String(d, 0, nul, Charsets.ISO_8859_1)
            val text = try {
                when (chunk.type) {
                    "tEXt" -> String(d, nul + 1, d.size - nul - 1, Charsets.ISO_8859_1)
                    "zTXt" -> String(inflate(d.copyOfRange(nul + 2, d.size)), Charsets.ISO_8859_1)
                    else -> {
                        val compressed = d[nul + 1].toInt() == 1
                        val language = (nul + 3 until d.size).first { d[it].toInt() == 0 }
                        val translated = (language + 1 until d.size).first { d[it].toInt() == 0 }
                        val body = d.copyOfRange(translated + 1, d.size)
                        String(if (compressed) inflate(body) else body, Charsets.UTF_8)
                    }
                }
            } catch (e: InvalidMetadata) {
                throw e
            } catch (e: Exception) {
                continue  // a damaged text chunk of another keyword is not ours to judge
            }
            total += text.length
            if (total > MAX_TEXT_TOTAL) {
                throw InvalidImage("the file is damaged, or its metadata is larger than an image's may be " +
                                   "(text chunks over ${MAX_TEXT_TOTAL shr 20} MB in all)")
            }
            // Pillow keeps the last, this reader the first: refuse, so no two SDKs read two photos.
            if (key == Metadata.CHUNK_KEY && key in out) throw InvalidImage("the file has two imn metadata chunks")
            if (key !in out) out[key] = text
        }
        return out
    }

    /** IMN's own private chunks: twice, which would be the real one? Other apps' may repeat. */
    val UNIQUE_CHUNKS = setOf("imSd")

    /** A PNG's private chunks (the second letter of the type lower case, as Pillow collects
     *  them), type → data (the last of a repeated type), wherever they are; [UNIQUE_CHUNKS] twice
     *  is refused. */
    fun privateChunks(bytes: ByteArray): Map<String, ByteArray> {
        val out = LinkedHashMap<String, ByteArray>()
        for (chunk in chunks(bytes)) {
            if (chunk.type[1] !in 'a'..'z') continue
            if (chunk.type in out && chunk.type in UNIQUE_CHUNKS) throw InvalidImage("the file has two ${chunk.type} chunks")
            out[chunk.type] = chunk.data
        }
        return out
    }

    /** `png` with a compressed iTXt chunk `keyword: text` inserted before its first IDAT. */
    fun withText(png: ByteArray, keyword: String, text: String): ByteArray {
        val body = ByteArrayOutputStream()
        body.write(keyword.toByteArray(Charsets.ISO_8859_1))
        body.write(byteArrayOf(0, 1, 0, 0, 0))  // end of keyword, compressed, zlib, no language, no translation
        DeflaterOutputStream(body).use { it.write(text.toByteArray(Charsets.UTF_8)) }
        return withChunk(png, "iTXt", body.toByteArray())
    }

    /** `png` with the chunk `type: data` inserted before its first IDAT, so after any chunk
     *  inserted before it (a sealed photo's `imSd` follows its `imn` text, photo.md §7). */
    fun withChunk(png: ByteArray, type: String, data: ByteArray): ByteArray {
        require(type.length == 4 && type.all { it in 'a'..'z' || it in 'A'..'Z' }) { "a chunk type is four letters, not $type" }
        val idat = chunks(png).firstOrNull { it.type == "IDAT" } ?: throw InvalidImage("the PNG has no image data")
        return png.copyOfRange(0, idat.start) + chunk(type, data) + png.copyOfRange(idat.start, png.size)
    }
}
