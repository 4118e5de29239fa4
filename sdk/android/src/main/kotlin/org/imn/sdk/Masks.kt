package org.imn.sdk

/**
 * Masks v2 (sdk/spec/photo.md §3.1, the Python SDK's `masks.py`): the Mask face is a donor face
 * of nobody from the bundle's bank, colour- and light-matched to the aligned face and feathered
 * over it from brows to chin and cheek to cheek. Float32 arithmetic in the reference's order;
 * sums are accumulated in double, so a pixel may differ from Python's by one level (the golden
 * vectors' "level" tolerance).
 */
object Masks {
    const val REGION_CX = 0.507f
    const val REGION_CY = 0.625f
    const val REGION_HALF_WIDTH = 0.285f
    const val REGION_HALF_HEIGHT_ABOVE = 0.33f
    const val REGION_HALF_HEIGHT_BELOW = 0.30f
    const val REGION_POWER = 2.5f
    const val REGION_FEATHER = 0.35f
    const val STATS_RADIUS = 0.75f
    const val SHADING_BLUR = 0.10
    const val LIMIT_LOW = 0.6f
    const val LIMIT_HIGH = 1.6f

    /** A donor: its face on the `S`×`S` aligned crop and its outline (0..255), zero outside the bank's box. */
    class Donor(val face: RgbImage, val outline: ByteArray) {
        init { require(outline.size == face.width * face.height) { "an outline needs one byte per pixel" } }
    }

    /** `(S·S)` superellipse radius of each pixel centre (1 on the region's border). */
    fun regionRadius(size: Int): FloatArray {
        val out = FloatArray(size * size)
        val p = REGION_POWER
        for (y in 0 until size) {
            val v = (y.toFloat() + 0.5f) / size.toFloat()
            val halfH = if (v < REGION_CY) REGION_HALF_HEIGHT_ABOVE else REGION_HALF_HEIGHT_BELOW
            val dy = Math.abs(v - REGION_CY) / halfH
            for (x in 0 until size) {
                val u = (x.toFloat() + 0.5f) / size.toFloat()
                val dx = Math.abs(u - REGION_CX) / REGION_HALF_WIDTH
                val sum = Math.pow(dx.toDouble(), p.toDouble()).toFloat() + Math.pow(dy.toDouble(), p.toDouble()).toFloat()
                out[y * size + x] = Math.pow(sum.toDouble(), (1f / p).toDouble()).toFloat()
            }
        }
        return out
    }

    /** `(S·S)` weight in [0, 1]: 1 over the face, fading out over REGION_FEATHER (before the outline). */
    fun regionAlpha(size: Int): FloatArray = regionRadius(size).map { r ->
        Math.min(1f, Math.max(0f, (1f + REGION_FEATHER / 2f - r) / REGION_FEATHER))
    }.toFloatArray()

    /** The bank from its decoded PNG (bundle.md, "donors"): two rows of `count` tiles of `box`'s size. */
    fun loadBank(atlas: RgbImage, count: Int, size: Int, box: IntArray): List<Donor> {
        val (x0, y0, x1, y1) = box.toList()
        val w = x1 - x0
        val h = y1 - y0
        if (x0 < 0 || y0 < 0 || w <= 0 || h <= 0 || x1 > size || y1 > size) {
            throw BundleMismatch("the donor bank's box ${box.toList()} does not lie inside a $size-px crop")
        }
        if (atlas.width != w * count || atlas.height != 2 * h) {
            throw BundleMismatch("the donor bank is ${atlas.width}x${atlas.height}; the manifest says two rows of $count donors of ${w}x$h")
        }
        return List(count) { k ->
            val face = RgbImage(size, size)
            val outline = ByteArray(size * size)
            for (y in 0 until h) for (x in 0 until w) {
                val src = (y * atlas.width + k * w + x) * 3
                val dst = (y0 + y) * size + x0 + x
                System.arraycopy(atlas.pixels, src, face.pixels, dst * 3, 3)
                outline[dst] = atlas.pixels[((h + y) * atlas.width + k * w + x) * 3]
            }
            Donor(face, outline)
        }
    }

    private fun ycbcr(image: RgbImage): Array<FloatArray> {
        val n = image.width * image.height
        val out = Array(3) { FloatArray(n) }
        for (i in 0 until n) {
            val r = image.pixels[i * 3].toInt().and(0xFF).toFloat()
            val g = image.pixels[i * 3 + 1].toInt().and(0xFF).toFloat()
            val b = image.pixels[i * 3 + 2].toInt().and(0xFF).toFloat()
            out[0][i] = 0.299f * r + 0.587f * g + 0.114f * b
            out[1][i] = 128f + -0.168736f * r + -0.331264f * g + 0.5f * b
            out[2][i] = 128f + 0.5f * r + -0.418688f * g + -0.081312f * b
        }
        return out
    }

    /** Per-channel mean and standard deviation under `weight`. */
    private fun stats(planes: Array<FloatArray>, weight: FloatArray): Pair<FloatArray, FloatArray> {
        val total = weight.fold(0.0) { a, w -> a + w }.toFloat()
        val mean = FloatArray(3) { c -> (planes[c].indices.fold(0.0) { a, i -> a + planes[c][i] * weight[i] }.toFloat() / total) }
        val std = FloatArray(3) { c ->
            val v = planes[c].indices.fold(0.0) { a, i -> val d = planes[c][i] - mean[c]; a + d * d * weight[i] }.toFloat() / total
            Math.sqrt(v.toDouble()).toFloat()
        }
        return mean to std
    }

    /** Mean over a (2r+1)² window, edges clamped: rows, then columns. */
    fun boxBlur(plane: FloatArray, size: Int, radius: Int): FloatArray {
        fun pass(src: FloatArray, horizontal: Boolean): FloatArray {
            val out = FloatArray(src.size)
            val window = 2 * radius + 1
            for (line in 0 until size) {
                val at = { i: Int -> val j = Math.min(size - 1, Math.max(0, i)); if (horizontal) src[line * size + j] else src[j * size + line] }
                var sum = 0.0
                for (i in -radius..radius) sum += at(i)
                for (i in 0 until size) {
                    out[if (horizontal) line * size + i else i * size + line] = (sum / window).toFloat()
                    sum += at(i + radius + 1) - at(i - radius)
                }
            }
            return out
        }
        return pass(pass(plane, true), false)
    }

    /** The Mask `(S, S)`: `donor` matched to the colour and light of the aligned `face` and blended over it. */
    fun compose(face: RgbImage, donor: Donor): RgbImage {
        val size = face.width
        require(face.height == size && donor.face.width == size && donor.face.height == size) {
            "face and donor must be S x S of one size, got ${face.width}x${face.height} and ${donor.face.width}x${donor.face.height}"
        }
        val n = size * size
        val radius = regionRadius(size)
        val alpha = FloatArray(n) {
            Math.min(1f, Math.max(0f, (1f + REGION_FEATHER / 2f - radius[it]) / REGION_FEATHER)) *
                ((donor.outline[it].toInt() and 0xFF).toFloat() / 255f)
        }
        val inner = FloatArray(n) { if (radius[it] < STATS_RADIUS) 1f else 0f }
        // No donor face where it would go: nothing to put there.
        if ((0 until n).none { inner[it] > 0f && donor.outline[it].toInt() != 0 }) return face.copy()
        val f = ycbcr(face)
        val d = ycbcr(donor.face)
        val (fMean, fStd) = stats(f, inner)
        val (dMean, dStd) = stats(d, FloatArray(n) { inner[it] * ((donor.outline[it].toInt() and 0xFF).toFloat() / 255f) })
        val matched = Array(3) { c ->
            val gain = Math.min(LIMIT_HIGH, Math.max(LIMIT_LOW, fStd[c] / Math.max(dStd[c], 1f)))
            FloatArray(n) { (d[c][it] - dMean[c]) * gain + fMean[c] }
        }
        val blur = Math.rint(SHADING_BLUR * size).toInt()
        if (blur > 0) {
            val lit = boxBlur(FloatArray(n) { alpha[it] * f[0][it] }, size, blur)
            val own = boxBlur(FloatArray(n) { alpha[it] * matched[0][it] }, size, blur)
            for (i in 0 until n) {
                val light = lit[i] / Math.max(own[i], 1e-3f)
                matched[0][i] *= Math.min(LIMIT_HIGH, Math.max(LIMIT_LOW, light))
            }
        }
        val out = RgbImage(size, size)
        for (i in 0 until n) {
            val y = matched[0][i]
            val cb = matched[1][i] - 128f
            val cr = matched[2][i] - 128f
            val rgb = floatArrayOf(y + 1.402f * cr, y + -0.344136f * cb + -0.714136f * cr, y + 1.772f * cb)
            val a = alpha[i]
            for (c in 0 until 3) {
                val v = a * rgb[c] + (1f - a) * (face.pixels[i * 3 + c].toInt() and 0xFF).toFloat()
                out.pixels[i * 3 + c] = Math.min(255.0, Math.max(0.0, Math.rint(v.toDouble()))).toInt().toByte()
            }
        }
        return out
    }
}
