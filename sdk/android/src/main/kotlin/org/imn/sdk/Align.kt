package org.imn.sdk

/** A 2-D affine map `(x, y) → (a·x + b·y + c, d·x + e·y + f)`, stored `[a, b, c, d, e, f]` like
 *  the Python SDK's `(2, 3)` matrices. */
class Affine(val m: DoubleArray) {
    init { require(m.size == 6) { "an affine map has 6 coefficients" } }

    fun mapX(x: Double, y: Double): Double = m[0] * x + m[1] * y + m[2]
    fun mapY(x: Double, y: Double): Double = m[3] * x + m[4] * y + m[5]

    fun inverse(): Affine {
        val det = m[0] * m[4] - m[1] * m[3]
        require(det != 0.0) { "the transform is singular" }
        val a = m[4] / det
        val b = -m[1] / det
        val d = -m[3] / det
        val e = m[0] / det
        return Affine(doubleArrayOf(a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])))
    }

    /** This map after translating by (dx, dy): `this(x + dx, y + dy)`. */
    fun shifted(dx: Double, dy: Double): Affine =
        Affine(doubleArrayOf(m[0], m[1], m[0] * dx + m[1] * dy + m[2], m[3], m[4], m[3] * dx + m[4] * dy + m[5]))
}

/** Five-point similarity alignment between a photo and the Mask-net crop, and the feathered face
 *  mask that blends the Mask back (sdk/spec/photo.md §3; sdk/python/imn_sdk/align.py). */
object Align {
    /** Landmarks (left eye, right eye, nose, mouth corners) as shares of the crop side. */
    val TEMPLATE = arrayOf(
        doubleArrayOf(96.50 / 256, 119.44 / 256), doubleArrayOf(156.95 / 256, 119.51 / 256),
        doubleArrayOf(124.66 / 256, 154.50 / 256), doubleArrayOf(99.18 / 256, 182.30 / 256),
        doubleArrayOf(154.55 / 256, 182.60 / 256))
    val ELLIPSE_CENTRE = doubleArrayOf(0.49, 0.55)
    val ELLIPSE_RADII = doubleArrayOf(0.34, 0.44)
    const val FEATHER = 0.08

    /** The least-squares similarity (rotation, uniform scale, shift; no reflection) mapping
     *  `src[i]` onto `dst[i]`: Umeyama's solution, in closed form for two dimensions. */
    fun similarity(src: Array<DoubleArray>, dst: Array<DoubleArray>): Affine {
        val n = src.size
        require(n >= 2 && dst.size == n) { "need as many (≥ 2) source as destination points" }
        val ms = doubleArrayOf(src.sumByDouble { it[0] } / n, src.sumByDouble { it[1] } / n)
        val md = doubleArrayOf(dst.sumByDouble { it[0] } / n, dst.sumByDouble { it[1] } / n)
        var dot = 0.0
        var cross = 0.0
        var variance = 0.0
        for (i in 0 until n) {
            val ax = src[i][0] - ms[0]
            val ay = src[i][1] - ms[1]
            val bx = dst[i][0] - md[0]
            val by = dst[i][1] - md[1]
            dot += ax * bx + ay * by
            cross += ax * by - ay * bx
            variance += ax * ax + ay * ay
        }
        // The best proper rotation maximises cos·dot + sin·cross; the scale is the trace it
        // reaches over the source variance (both sums share the 1/n that Umeyama divides by).
        val norm = Math.hypot(dot, cross)
        val scale = norm / variance
        val c = scale * dot / norm
        val s = scale * cross / norm
        return Affine(doubleArrayOf(c, -s, md[0] - (c * ms[0] - s * ms[1]), s, c, md[1] - (s * ms[0] + c * ms[1])))
    }

    /** Photo → crop transform placing `landmarks (5, 2)` on the template of a `size` crop. */
    fun cropTransform(landmarks: Array<DoubleArray>, size: Int): Affine =
        similarity(landmarks, Array(TEMPLATE.size) { doubleArrayOf(TEMPLATE[it][0] * size, TEMPLATE[it][1] * size) })

    /** The `size`×`size` crop of `photo` under `toCrop` (bicubic). */
    fun alignedCrop(photo: RgbImage, toCrop: Affine, size: Int): RgbImage =
        Resample.warpBicubic(photo, toCrop.inverse().m, size, size)

    /** `(size, size)` weights in [0, 1]: 1 inside the face ellipse, fading out over FEATHER. */
    fun faceAlpha(size: Int): FloatArray {
        val edge = FEATHER / Math.min(ELLIPSE_RADII[0], ELLIPSE_RADII[1])
        return FloatArray(size * size) { i ->
            val u = ((i % size) + 0.5) / size
            val v = ((i / size) + 0.5) / size
            val du = (u - ELLIPSE_CENTRE[0]) / ELLIPSE_RADII[0]
            val dv = (v - ELLIPSE_CENTRE[1]) / ELLIPSE_RADII[1]
            val r = Math.sqrt(du * du + dv * dv)
            Math.min(1.0, Math.max(0.0, (1 + edge / 2 - r) / edge)).toFloat()
        }
    }

    /** Photo-space bounds `(x0, y0, x1, y1)` of the feathered ellipse (where the blend can touch). */
    fun blendBox(toCrop: Affine, size: Int): DoubleArray {
        val grow = 1 + FEATHER / Math.min(ELLIPSE_RADII[0], ELLIPSE_RADII[1])
        val back = toCrop.inverse()
        val box = doubleArrayOf(Double.MAX_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE, -Double.MAX_VALUE)
        for (k in 0 until 72) {
            val t = 2 * Math.PI * k / 72
            val px = (ELLIPSE_CENTRE[0] + grow * ELLIPSE_RADII[0] * Math.cos(t)) * size
            val py = (ELLIPSE_CENTRE[1] + grow * ELLIPSE_RADII[1] * Math.sin(t)) * size
            val x = back.mapX(px, py)
            val y = back.mapY(px, py)
            box[0] = Math.min(box[0], x); box[1] = Math.min(box[1], y)
            box[2] = Math.max(box[2], x); box[3] = Math.max(box[3], y)
        }
        return doubleArrayOf(Math.floor(box[0]), Math.floor(box[1]), Math.ceil(box[2]), Math.ceil(box[3]))
    }

    /** Photo-space bounds `(x0, y0, x1, y1)` of the `size` crop: its corners mapped back. */
    fun footprint(toCrop: Affine, size: Int): IntArray {
        val back = toCrop.inverse()
        val corners = listOf(0 to 0, size to 0, 0 to size, size to size)
        val xs = corners.map { (cx, cy) -> back.mapX(cx.toDouble(), cy.toDouble()) }
        val ys = corners.map { (cx, cy) -> back.mapY(cx.toDouble(), cy.toDouble()) }
        return intArrayOf(Math.floor(xs.min()!!).toInt(), Math.floor(ys.min()!!).toInt(),
                          Math.ceil(xs.max()!!).toInt(), Math.ceil(ys.max()!!).toInt())
    }

    /** `(h, w)` over `box`: where any face's blend weight is nonzero, grown by `margin` pixels
     *  (a square max filter), so landmarks rounded in the metadata still cover every pixel the
     *  blend touched (the Python SDK's `blend_support`). */
    fun blendSupport(toCrops: List<Affine>, size: Int, box: Box, margin: Int = 2): BooleanArray {
        val w = box.width
        val h = box.height
        val touched = BooleanArray(w * h)
        val alpha = faceAlpha(size)
        for (toCrop in toCrops) {
            // Outside its footprint a face's weight is 0 anyway: warp only there.
            val f = footprint(toCrop, size)
            val ax0 = Math.max(f[0], box.x0); val ay0 = Math.max(f[1], box.y0)
            val ax1 = Math.min(f[2], box.x1); val ay1 = Math.min(f[3], box.y1)
            if (ax1 <= ax0 || ay1 <= ay0) continue
            val aw = ax1 - ax0
            val weight = Resample.warpBilinear(alpha, size, size, toCrop.shifted(ax0.toDouble(), ay0.toDouble()).m, aw, ay1 - ay0)
            for (i in weight.indices) if (weight[i] > 0f) touched[(ay0 - box.y0 + i / aw) * w + ax0 - box.x0 + i % aw] = true
        }
        val grown = BooleanArray(w * h)
        for (y in 0 until h) for (x in 0 until w) {
            if (!touched[y * w + x]) continue
            for (yy in Math.max(0, y - margin)..Math.min(h - 1, y + margin)) {
                for (xx in Math.max(0, x - margin)..Math.min(w - 1, x + margin)) grown[yy * w + xx] = true
            }
        }
        return grown
    }

    /**
     * Blends `crop (S, S)` into `photo` (in place) through the feathered face ellipse, touching
     * nothing outside `limit` (x0, y0, x1, y1; the face's hidden region). Same float32
     * arithmetic as the Python SDK: `round(photo · (1 − a) + mask · a)`.
     */
    fun pasteBack(photo: RgbImage, crop: RgbImage, toCrop: Affine, limit: IntArray) {
        val size = crop.width
        val f = footprint(toCrop, size)
        val x0 = Math.max(Math.max(f[0], 0), limit[0])
        val y0 = Math.max(Math.max(f[1], 0), limit[1])
        val x1 = Math.min(Math.min(f[2], photo.width), limit[2])
        val y1 = Math.min(Math.min(f[3], photo.height), limit[3])
        if (x1 <= x0 || y1 <= y0) return
        val w = x1 - x0
        val h = y1 - y0
        val boxToCrop = toCrop.shifted(x0.toDouble(), y0.toDouble())
        val face = Resample.warpBicubic(crop, boxToCrop.m, w, h)
        val alpha = Resample.warpBilinear(faceAlpha(size), size, size, boxToCrop.m, w, h)
        for (y in 0 until h) for (x in 0 until w) {
            val a = alpha[y * w + x]
            if (a == 0f) continue  // region·1 + mask·0 rounds back to the pixel itself
            for (c in 0 until 3) {
                val i = ((y0 + y) * photo.width + x0 + x) * 3 + c
                val v = (photo.pixels[i].toInt() and 0xFF).toFloat() * (1f - a) + face.at(x, y, c).toFloat() * a
                photo.pixels[i] = Math.min(255.0, Math.max(0.0, Math.rint(v.toDouble()))).toInt().toByte()
            }
        }
    }
}
