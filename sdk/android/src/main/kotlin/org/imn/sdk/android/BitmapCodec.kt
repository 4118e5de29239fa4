package org.imn.sdk.android

import android.graphics.Bitmap
import android.graphics.BitmapFactory
import androidx.exifinterface.media.ExifInterface
import org.imn.sdk.InvalidImage
import org.imn.sdk.Photo
import org.imn.sdk.PhotoCodec
import org.imn.sdk.RgbImage
import java.io.ByteArrayInputStream
import java.io.ByteArrayOutputStream

/**
 * Android's codecs as the SDK's PhotoCodec: BitmapFactory decodes (upright per EXIF, 8-bit,
 * unpremultiplied so RGBA keeps its exact colour bytes), Bitmap.compress writes the PNG the SDK
 * then adds its `imn` chunk to. Not compiled in this repository's CI (no Android SDK there).
 */
object BitmapCodec : PhotoCodec {
    override fun decode(bytes: ByteArray): Photo {
        val bounds = BitmapFactory.Options().apply { inJustDecodeBounds = true }
        BitmapFactory.decodeByteArray(bytes, 0, bytes.size, bounds)
        if (bounds.outWidth <= 0 || bounds.outHeight <= 0) throw InvalidImage("not an image IMN can read (PNG, JPEG, WebP, HEIF, …)")
        if (bounds.outConfig == Bitmap.Config.RGBA_F16) {
            throw InvalidImage("16-bit or float images are not supported: IMN writes 8-bit PNG; convert the photo to 8-bit first")
        }
        val options = BitmapFactory.Options().apply {
            inPreferredConfig = Bitmap.Config.ARGB_8888
            inPremultiplied = false
        }
        val bitmap = BitmapFactory.decodeByteArray(bytes, 0, bytes.size, options)
            ?: throw InvalidImage("the file is damaged or truncated")
        val w = bitmap.width
        val h = bitmap.height
        val argb = IntArray(w * h)
        bitmap.getPixels(argb, 0, w, 0, 0, w, h)
        val rgb = RgbImage(w, h)
        var alpha: ByteArray? = null
        if (bitmap.hasAlpha()) alpha = ByteArray(w * h)
        for (i in argb.indices) {
            val p = argb[i]
            rgb.pixels[3 * i] = (p shr 16).toByte()
            rgb.pixels[3 * i + 1] = (p shr 8).toByte()
            rgb.pixels[3 * i + 2] = p.toByte()
            alpha?.set(i, (p ushr 24).toByte())
        }
        val notes = ArrayList<String>()
        val orientation = ExifInterface(ByteArrayInputStream(bytes))
            .getAttributeInt(ExifInterface.TAG_ORIENTATION, ExifInterface.ORIENTATION_NORMAL)
        val upright = Orientation.apply(rgb, alpha, orientation)
        if (orientation != ExifInterface.ORIENTATION_NORMAL && orientation != ExifInterface.ORIENTATION_UNDEFINED) {
            notes.add("rotated upright from EXIF orientation $orientation")
        }
        if (alpha != null) notes.add("alpha channel kept as is")
        val format = when (bounds.outMimeType) {
            "image/png" -> "PNG"; "image/jpeg" -> "JPEG"; "image/webp" -> "WEBP"; "image/heif", "image/heic" -> "HEIF"
            else -> bounds.outMimeType ?: ""
        }
        return Photo(upright.first, upright.second, notes, format = format)
    }

    override fun encodePng(rgb: RgbImage, alpha: ByteArray?): ByteArray {
        val bitmap = Bitmap.createBitmap(rgb.width, rgb.height, Bitmap.Config.ARGB_8888)
        bitmap.isPremultiplied = false  // setPixels then stores the colours as given
        val argb = IntArray(rgb.width * rgb.height) { i ->
            val a = alpha?.get(i)?.toInt()?.and(0xFF) ?: 0xFF
            (a shl 24) or (rgb.at(i % rgb.width, i / rgb.width, 0) shl 16) or
                (rgb.at(i % rgb.width, i / rgb.width, 1) shl 8) or rgb.at(i % rgb.width, i / rgb.width, 2)
        }
        bitmap.setPixels(argb, 0, rgb.width, 0, 0, rgb.width, rgb.height)
        bitmap.setHasAlpha(alpha != null)
        return ByteArrayOutputStream().also { bitmap.compress(Bitmap.CompressFormat.PNG, 100, it) }.toByteArray()
    }
}
