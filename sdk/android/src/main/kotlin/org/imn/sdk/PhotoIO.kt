package org.imn.sdk

import java.io.File
import java.nio.file.Files
import java.nio.file.StandardCopyOption

/** An upright 8-bit photo: `rgb` and, when it had one, `alpha` (`H·W` bytes), the PNG text
 *  chunks (IMN metadata) and the conversions made on the way in. `mode`: "L" when the source was
 *  grayscale (its `rgb` has three equal channels), else "RGB". `chunks`: the PNG's private
 *  chunks by type (a sealed photo's encrypted originals, `imSd`). */
class Photo(val rgb: RgbImage, val alpha: ByteArray? = null, val notes: List<String> = emptyList(),
            val text: Map<String, String> = emptyMap(), val format: String = "", val mode: String = "RGB",
            val chunks: Map<String, ByteArray> = emptyMap())

/** Pixel decoding and PNG encoding, which each platform does with its own codecs (Android:
 *  BitmapFactory and ExifInterface, `android/BitmapCodec.kt`). Text chunks are the SDK's job. */
interface PhotoCodec {
    /** Upright 8-bit RGB (+ alpha) of an encoded image, with the format's name ("PNG", "JPEG")
     *  and `mode` "L" where the codec can tell the image is grayscale (PNG and JPEG headers are
     *  read by [PhotoIO.read] itself); throws [InvalidImage] for undecodable, truncated, 16-bit
     *  or float images. */
    fun decode(bytes: ByteArray): Photo

    /** An 8-bit RGB or RGBA PNG of exactly these pixels. */
    fun encodePng(rgb: RgbImage, alpha: ByteArray?): ByteArray
}

/** Reading photos and writing masked PNGs (sdk/spec/photo.md §1 and §5). */
object PhotoIO {
    const val MAX_PIXELS = 100_000_000L

    /**
     * Decodes `bytes` and keeps the PNG text chunks (where the `imn` record lives) and private
     * chunks (a sealed photo's `imSd`; one of each type, else [InvalidImage]). Grayscale
     * photos (a gray PNG or JPEG, or what the codec reports as gray) get `mode` "L": masked in
     * gray, recovered as grayscale. A PNG of more than 8 bits per sample, gray or colour, is
     * refused from its header before decoding (platform decoders may hand it over as 8-bit).
     */
    fun read(bytes: ByteArray, codec: PhotoCodec): Photo {
        val header = if (Png.isPng(bytes)) Png.header(bytes) else null
        if (header != null && header.width.toLong() * header.height > MAX_PIXELS) {
            throw ImageTooLarge("${header.width}x${header.height} is ${header.width.toLong() * header.height / 1_000_000} MP; " +
                                "IMN protects photos up to ${MAX_PIXELS / 1_000_000} MP")
        }
        if (header != null && header.bitDepth > 8) {
            throw InvalidImage("16-bit and float images (a ${header.bitDepth}-bit PNG) are not supported: IMN writes 8-bit PNG " +
                               "and would lose their low bits; convert the photo to 8-bit first")
        }
        val decoded = codec.decode(bytes)
        if (decoded.rgb.width.toLong() * decoded.rgb.height > MAX_PIXELS) {
            throw ImageTooLarge("${decoded.rgb.width}x${decoded.rgb.height} is more than ${MAX_PIXELS / 1_000_000} MP")
        }
        val text = if (header != null) Png.textChunks(bytes) else emptyMap()
        val chunks = if (header != null) Png.privateChunks(bytes) else emptyMap()
        val gray = decoded.mode == "L" || header?.gray ?: (sourceMode(bytes) == "L")  // the header read once
        val mode = if (gray) "L" else "RGB"
        val notes = if (mode == "L") decoded.notes + "grayscale photo: its Mask is gray and it is recovered as grayscale"
                    else decoded.notes
        return Photo(decoded.rgb, decoded.alpha, notes, text, decoded.format, mode, chunks)
    }

    /** "L" for a grayscale PNG (colour type 0 or 4, any bit depth) or a one-component JPEG, as
     *  Pillow opens them ("1", "L", "LA"); "RGB" for anything else, read from the header alone. */
    fun sourceMode(bytes: ByteArray): String {
        if (Png.isPng(bytes)) return if (Png.header(bytes).gray) "L" else "RGB"
        return if (jpegComponents(bytes) == 1) "L" else "RGB"
    }

    /** The component count of a JPEG's frame header (SOF0..SOF15 but DHT, JPG, DAC); null when
     *  `bytes` is no JPEG or has none before its scan. */
    private fun jpegComponents(bytes: ByteArray): Int? {
        fun u8(i: Int) = bytes[i].toInt() and 0xFF
        if (bytes.size < 4 || u8(0) != 0xFF || u8(1) != 0xD8) return null
        var at = 2
        while (at + 4 <= bytes.size) {
            if (u8(at) != 0xFF) return null
            val marker = u8(at + 1)
            if (marker == 0xFF) {
                at += 1  // fill byte
            } else if (marker == 0x01 || marker in 0xD0..0xD7) {
                at += 2  // no length
            } else if (marker == 0xD9 || marker == 0xDA) {
                return null  // end of image, or the scan before any frame header
            } else if (marker in 0xC0..0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
                return if (at + 10 <= bytes.size) u8(at + 9) else null
            } else {
                at += 2 + ((u8(at + 2) shl 8) or u8(at + 3))
            }
        }
        return null
    }

    /** `H·W` luma of an 8-bit RGB image, exactly as Pillow's `convert("L")` (ITU-R 601-2 in 16-bit
     *  fixed point): three equal channels give back their value. */
    fun toGray(rgb: RgbImage): ByteArray {
        val p = rgb.pixels
        return ByteArray(rgb.width * rgb.height) { i ->
            ((19595 * (p[3 * i].toInt() and 0xFF) + 38470 * (p[3 * i + 1].toInt() and 0xFF) +
              7471 * (p[3 * i + 2].toInt() and 0xFF) + 0x8000) ushr 16).toByte()
        }
    }

    /** An 8-bit PNG with `text` as compressed iTXt chunks and `chunks` (private chunk type →
     *  data) after them, before the pixels, written atomically (temporary file in the same
     *  folder, then rename); never over an existing file unless `overwrite`. `mode` "L" writes
     *  grayscale ([toGray]; the SDK's own encoder), for a recovered grayscale photo. */
    fun writePng(file: File, rgb: RgbImage, alpha: ByteArray?, text: Map<String, String>, codec: PhotoCodec,
                 overwrite: Boolean = false, mode: String = "RGB", chunks: Map<String, ByteArray> = emptyMap()): File {
        if (!file.name.toLowerCase().endsWith(".png")) {
            throw InvalidImage("$file: masked photos are written as PNG only (JPEG would destroy the hidden face); use a .png name")
        }
        if (file.exists() && !overwrite) throw OutputExists("$file exists; pass overwrite = true to replace it")
        var png = if (mode == "L") Png.encodeGray(toGray(rgb), alpha, rgb.width, rgb.height) else codec.encodePng(rgb, alpha)
        for ((key, value) in text) png = Png.withText(png, key, value)
        for ((type, data) in chunks) png = Png.withChunk(png, type, data)
        val folder = file.absoluteFile.parentFile.apply { mkdirs() }
        val tmp = File.createTempFile(".${file.name}.", ".tmp", folder)
        try {
            tmp.writeBytes(png)
            Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
        } finally {
            tmp.delete()
        }
        return file
    }
}

/** The name before 2026-11-29; Kotlin's rule (two-letter acronyms in capitals) gives the Swift SDK's name. */
@Deprecated("renamed PhotoIO, as in the Swift SDK", ReplaceWith("PhotoIO"))
typealias PhotoIo = PhotoIO
