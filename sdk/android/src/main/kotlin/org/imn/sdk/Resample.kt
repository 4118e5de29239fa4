package org.imn.sdk

/**
 * The three resamplers the photo pipeline uses, written to give exactly Pillow's pixels (the
 * Python SDK resamples with Pillow, and the golden vectors pin its numbers):
 * box-filter resize (detection copy and pyramid), bicubic affine warp of RGB (aligned crop and
 * paste-back) and bilinear affine warp of a float plane (the blend weight).
 *
 * An affine `outToIn` is `[a, b, c, d, e, f]`: output pixel centre (x + 0.5, y + 0.5) reads the
 * input at (a·x' + b·y' + c, d·x' + e·y' + f); outside the input gives 0, as in Pillow.
 */
object Resample {
    // Pillow's fixed point for 8-bit convolution: 32 bits − 8 of pixel − 2 of headroom.
    private const val PRECISION_BITS = 32 - 8 - 2

    private class Coefficients(val start: IntArray, val weights: Array<IntArray>)

    private fun boxCoefficients(inSize: Int, outSize: Int): Coefficients {
        val scale = inSize.toDouble() / outSize
        val filterScale = Math.max(scale, 1.0)
        val support = 0.5 * filterScale
        val start = IntArray(outSize)
        val weights = Array(outSize) { IntArray(0) }
        for (xx in 0 until outSize) {
            val centre = (xx + 0.5) * scale
            val xmin = Math.max((centre - support + 0.5).toInt(), 0)
            val xmax = Math.min((centre + support + 0.5).toInt(), inSize) - xmin
            val k = DoubleArray(xmax) { x ->
                val t = (x + xmin - centre + 0.5) / filterScale
                if (t >= -0.5 && t < 0.5) 1.0 else 0.0
            }
            val total = k.sum()
            start[xx] = xmin
            weights[xx] = IntArray(xmax) { x ->
                val w = if (total != 0.0) k[x] / total else k[x]
                if (w < 0) (-0.5 + w * (1 shl PRECISION_BITS)).toInt() else (0.5 + w * (1 shl PRECISION_BITS)).toInt()
            }
        }
        return Coefficients(start, weights)
    }

    private fun clip8(acc: Long): Byte = Math.min(255L, Math.max(0L, acc shr PRECISION_BITS)).toInt().toByte()

    private fun horizontal(image: RgbImage, outWidth: Int): RgbImage {
        val k = boxCoefficients(image.width, outWidth)
        val out = RgbImage(outWidth, image.height)
        for (y in 0 until image.height) for (xx in 0 until outWidth) for (c in 0 until 3) {
            var acc = 1L shl (PRECISION_BITS - 1)
            val w = k.weights[xx]
            for (i in w.indices) acc += image.at(k.start[xx] + i, y, c).toLong() * w[i]
            out.pixels[(y * outWidth + xx) * 3 + c] = clip8(acc)
        }
        return out
    }

    private fun vertical(image: RgbImage, outHeight: Int): RgbImage {
        val k = boxCoefficients(image.height, outHeight)
        val out = RgbImage(image.width, outHeight)
        for (yy in 0 until outHeight) for (x in 0 until image.width) for (c in 0 until 3) {
            var acc = 1L shl (PRECISION_BITS - 1)
            val w = k.weights[yy]
            for (i in w.indices) acc += image.at(x, k.start[yy] + i, c).toLong() * w[i]
            out.pixels[(yy * image.width + x) * 3 + c] = clip8(acc)
        }
        return out
    }

    /** Pillow's `resize((w, h), Image.BOX)`: horizontal pass, then vertical. */
    fun boxResize(image: RgbImage, width: Int, height: Int): RgbImage {
        var out = image
        if (width != image.width) out = horizontal(out, width)
        if (height != image.height) out = vertical(out, height)
        return if (out === image) image.copy() else out
    }

    private fun floorInt(v: Double): Int = Math.floor(v).toInt()

    private fun clamp(v: Int, size: Int): Int = if (v < 0) 0 else if (v < size) v else size - 1

    private fun cubic(v1: Double, v2: Double, v3: Double, v4: Double, d: Double): Double {
        val p2 = -v1 + v3
        val p3 = 2 * (v1 - v2) + v3 - v4
        val p4 = -v1 + v2 - v3 + v4
        return v2 + d * (p2 + d * (p3 + d * p4))
    }

    /** Pillow's sampling grid for an affine warp: for each output pixel whose centre maps inside
     *  the `w`×`h` input, the integer corner (x0, y0) left of and above the mapped point (shifted
     *  by half a pixel) and the fractions (dx, dy) past it. */
    private inline fun forEachSample(outToIn: DoubleArray, w: Int, h: Int, width: Int, height: Int,
                                     body: (x: Int, y: Int, x0: Int, y0: Int, dx: Double, dy: Double) -> Unit) {
        for (y in 0 until height) for (x in 0 until width) {
            val xin = outToIn[0] * (x + 0.5) + outToIn[1] * (y + 0.5) + outToIn[2]
            val yin = outToIn[3] * (x + 0.5) + outToIn[4] * (y + 0.5) + outToIn[5]
            if (xin < 0.0 || xin >= w || yin < 0.0 || yin >= h) continue
            val x0 = floorInt(xin - 0.5)
            val y0 = floorInt(yin - 0.5)
            body(x, y, x0, y0, xin - 0.5 - x0, yin - 0.5 - y0)
        }
    }

    /** Pillow's `transform(size, AFFINE, outToIn, BICUBIC)` of an RGB image. */
    fun warpBicubic(image: RgbImage, outToIn: DoubleArray, width: Int, height: Int): RgbImage {
        val out = RgbImage(width, height)
        val w = image.width
        val h = image.height
        val xs = IntArray(4)
        val rows = DoubleArray(4)
        forEachSample(outToIn, w, h, width, height) { x, y, x0, y0, dx, dy ->
            for (i in 0 until 4) xs[i] = clamp(x0 - 1 + i, w)
            for (c in 0 until 3) {
                for (i in 0 until 4) {
                    val row = y0 - 1 + i
                    rows[i] = if (i == 0) {
                        val r = clamp(row, h)
                        cubic(image.at(xs[0], r, c).toDouble(), image.at(xs[1], r, c).toDouble(),
                              image.at(xs[2], r, c).toDouble(), image.at(xs[3], r, c).toDouble(), dx)
                    } else if (row in 0 until h) {
                        cubic(image.at(xs[0], row, c).toDouble(), image.at(xs[1], row, c).toDouble(),
                              image.at(xs[2], row, c).toDouble(), image.at(xs[3], row, c).toDouble(), dx)
                    } else rows[i - 1]
                }
                val v = cubic(rows[0], rows[1], rows[2], rows[3], dy)
                // Pillow truncates towards zero after clipping, it does not round.
                val byte = if (v <= 0.0) 0 else if (v >= 255.0) 255 else v.toInt()
                out.pixels[(y * width + x) * 3 + c] = byte.toByte()
            }
        }
        return out
    }

    /** Pillow's `transform(size, AFFINE, outToIn, BILINEAR)` of a float (mode "F") plane
     *  `(h, w)`, row-major; returns `(height, width)`. */
    fun warpBilinear(plane: FloatArray, w: Int, h: Int, outToIn: DoubleArray, width: Int, height: Int): FloatArray {
        require(plane.size == w * h) { "plane holds ${plane.size} values, not ${w}x$h" }
        val out = FloatArray(width * height)
        forEachSample(outToIn, w, h, width, height) { x, y, x0, y0, dx, dy ->
            val a = clamp(x0, w)
            val b = clamp(x0 + 1, w)
            var row = clamp(y0, h) * w
            val v1 = plane[row + a] + (plane[row + b].toDouble() - plane[row + a]) * dx
            val v2 = if (y0 + 1 in 0 until h) {
                row = (y0 + 1) * w
                plane[row + a] + (plane[row + b].toDouble() - plane[row + a]) * dx
            } else v1
            out[y * width + x] = (v1 + (v2 - v1) * dy).toFloat()
        }
        return out
    }
}
