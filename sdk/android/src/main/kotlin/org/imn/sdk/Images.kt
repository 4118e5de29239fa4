package org.imn.sdk

/** An 8-bit RGB image, rows top to bottom, `(H, W, 3)` interleaved like the Python SDK's arrays. */
class RgbImage(val width: Int, val height: Int, val pixels: ByteArray = ByteArray(width * height * 3)) {
    init {
        require(width > 0 && height > 0) { "an image needs a positive size, got ${width}x$height" }
        require(pixels.size == width * height * 3) { "expected ${width * height * 3} bytes, got ${pixels.size}" }
    }

    /** Channel [c] of pixel (x, y), 0..255. */
    fun at(x: Int, y: Int, c: Int): Int = pixels[(y * width + x) * 3 + c].toInt() and 0xFF

    fun copy(): RgbImage = RgbImage(width, height, pixels.copyOf())

    /** The `w`×`h` block whose top-left corner is (x0, y0). */
    fun crop(x0: Int, y0: Int, w: Int, h: Int): RgbImage {
        require(x0 >= 0 && y0 >= 0 && x0 + w <= width && y0 + h <= height) { "crop outside the image" }
        val out = RgbImage(w, h)
        for (y in 0 until h) System.arraycopy(pixels, ((y0 + y) * width + x0) * 3, out.pixels, y * w * 3, w * 3)
        return out
    }

    /** Writes [block] over this image with its top-left corner at (x0, y0). */
    fun paste(block: RgbImage, x0: Int, y0: Int) {
        require(x0 >= 0 && y0 >= 0 && x0 + block.width <= width && y0 + block.height <= height) { "paste outside the image" }
        for (y in 0 until block.height) {
            System.arraycopy(block.pixels, y * block.width * 3, pixels, ((y0 + y) * width + x0) * 3, block.width * 3)
        }
    }
}

/** A float32 tensor in row-major order, as the bundle's graphs take and give them. */
class Tensor(val shape: IntArray, val data: FloatArray) {
    init {
        require(shape.fold(1) { a, b -> a * b } == data.size) { "shape ${shape.toList()} does not hold ${data.size} values" }
    }

    override fun toString(): String = "Tensor${shape.toList()}"

    companion object {
        /** `[1, 3, H, W]` in [0, 1] from an 8-bit image. */
        fun fromImage(image: RgbImage): Tensor {
            val plane = image.width * image.height
            val data = FloatArray(3 * plane)
            for (i in 0 until plane) for (c in 0 until 3) {
                data[c * plane + i] = (image.pixels[i * 3 + c].toInt() and 0xFF).toFloat() / 255f
            }
            return Tensor(intArrayOf(1, 3, image.height, image.width), data)
        }

        fun zeros(vararg shape: Int): Tensor = Tensor(shape, FloatArray(shape.fold(1) { a, b -> a * b }))
    }

    /** The 8-bit image of a `[1, 3, H, W]` tensor in [0, 1]: round half to even and clip, like
     *  the Python SDK's `from_nchw` (the 8-bit rounding a PNG stores). */
    fun toImage(): RgbImage {
        require(shape.size == 4 && shape[0] == 1 && shape[1] == 3) { "expected [1, 3, H, W], got ${shape.toList()}" }
        val h = shape[2]
        val w = shape[3]
        val plane = w * h
        val out = RgbImage(w, h)
        for (i in 0 until plane) for (c in 0 until 3) {
            val v = Math.rint((data[c * plane + i] * 255f).toDouble())
            out.pixels[i * 3 + c] = Math.min(255.0, Math.max(0.0, v)).toInt().toByte()
        }
        return out
    }
}
