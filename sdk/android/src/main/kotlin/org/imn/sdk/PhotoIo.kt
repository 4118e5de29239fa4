package org.imn.sdk

import java.io.File
import java.nio.file.Files
import java.nio.file.StandardCopyOption

/** An upright 8-bit photo: `rgb` and, when it had one, `alpha` (`H·W` bytes), the PNG text
 *  chunks (IMN metadata) and the conversions made on the way in. */
class Photo(val rgb: RgbImage, val alpha: ByteArray? = null, val notes: List<String> = emptyList(),
            val text: Map<String, String> = emptyMap(), val format: String = "")

/** Pixel decoding and PNG encoding, which each platform does with its own codecs (Android:
 *  BitmapFactory and ExifInterface, `android/BitmapCodec.kt`). Text chunks are the SDK's job. */
interface PhotoCodec {
    /** Upright 8-bit RGB (+ alpha) of an encoded image, with the format's name ("PNG", "JPEG");
     *  throws [InvalidImage] for undecodable, truncated, 16-bit or float images. */
    fun decode(bytes: ByteArray): Photo

    /** An 8-bit RGB or RGBA PNG of exactly these pixels. */
    fun encodePng(rgb: RgbImage, alpha: ByteArray?): ByteArray
}

/** Reading photos and writing masked PNGs (sdk/spec/photo.md §1 and §5). */
object PhotoIo {
    const val MAX_PIXELS = 100_000_000L

    /** Decodes `bytes` and keeps the PNG text chunks (where the `imn` record lives). */
    fun read(bytes: ByteArray, codec: PhotoCodec): Photo {
        val decoded = codec.decode(bytes)
        if (decoded.rgb.width.toLong() * decoded.rgb.height > MAX_PIXELS) {
            throw ImageTooLarge("${decoded.rgb.width}x${decoded.rgb.height} is more than ${MAX_PIXELS / 1_000_000} MP")
        }
        val text = if (Png.isPng(bytes)) Png.textChunks(bytes) else emptyMap()
        return Photo(decoded.rgb, decoded.alpha, decoded.notes, text, decoded.format)
    }

    /** An 8-bit PNG with `text` as compressed iTXt chunks, written atomically (temporary file in
     *  the same folder, then rename); never over an existing file unless `overwrite`. */
    fun writePng(file: File, rgb: RgbImage, alpha: ByteArray?, text: Map<String, String>, codec: PhotoCodec,
                 overwrite: Boolean = false): File {
        if (!file.name.toLowerCase().endsWith(".png")) {
            throw InvalidImage("$file: masked photos are written as PNG only (JPEG would destroy the hidden face); use a .png name")
        }
        if (file.exists() && !overwrite) throw OutputExists("$file exists; pass overwrite = true to replace it")
        var png = codec.encodePng(rgb, alpha)
        for ((key, value) in text) png = Png.withText(png, key, value)
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
