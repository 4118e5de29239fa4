package org.imn.sdk

/** EXIF orientations 1–8 applied to pixels, so photos are processed and written upright (what
 *  Pillow's `ImageOps.exif_transpose` does for the Python SDK). */
object Orientation {
    /** The upright image (and alpha) for EXIF `orientation`; 1 or unknown values change nothing. */
    fun apply(rgb: RgbImage, alpha: ByteArray?, orientation: Int): Pair<RgbImage, ByteArray?> {
        if (orientation !in 2..8) return rgb to alpha
        val w = rgb.width
        val h = rgb.height
        val swap = orientation >= 5
        val ow = if (swap) h else w
        val oh = if (swap) w else h
        val out = RgbImage(ow, oh)
        val outAlpha = alpha?.let { ByteArray(it.size) }
        for (y in 0 until oh) for (x in 0 until ow) {
            // Source pixel of upright (x, y) for each EXIF orientation (TIFF 6.0, tag 274).
            val (sx, sy) = when (orientation) {
                2 -> (w - 1 - x) to y
                3 -> (w - 1 - x) to (h - 1 - y)
                4 -> x to (h - 1 - y)
                5 -> y to x
                6 -> y to (h - 1 - x)
                7 -> (w - 1 - y) to (h - 1 - x)
                else -> (w - 1 - y) to x
            }
            System.arraycopy(rgb.pixels, (sy * w + sx) * 3, out.pixels, (y * ow + x) * 3, 3)
            if (outAlpha != null) outAlpha[y * ow + x] = alpha[sy * w + sx]
        }
        return out to outAlpha
    }
}
