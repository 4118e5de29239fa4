package org.imn.sdk

/** A box `(x0, y0, x1, y1)` in whole pixels, x1 and y1 exclusive. */
data class Box(val x0: Int, val y0: Int, val x1: Int, val y1: Int) {
    val width get() = x1 - x0
    val height get() = y1 - y0

    fun overlaps(o: Box): Boolean = x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1
    fun contains(x: Double, y: Double): Boolean = x0 <= x && x < x1 && y0 <= y && y < y1
}

/** Hidden regions: whole tiles of the hiding graph's size over each face, merged when they
 *  overlap, so hiding runs at the photo's native resolution with static graph shapes
 *  (sdk/spec/photo.md §4; sdk/python/imn_sdk/tiles.py). */
object Tiles {
    private fun span(low: Double, high: Double, limit: Int, tile: Int): IntArray {
        val tiles = Math.max(1, Math.ceil((high - low) / tile).toInt())
        val length = Math.min(tiles, limit / tile) * tile
        // Math.rint rounds half to even, as Python's round() does.
        var start = Math.rint((low + high) / 2 - length / 2.0).toInt()
        start = Math.min(Math.max(start, 0), limit - length)
        return intArrayOf(start, start + length)
    }

    /** The smallest whole-tile box around `box` (as far as the photo allows), inside the photo. */
    fun snap(box: DoubleArray, width: Int, height: Int, tile: Int): Box {
        if (width < tile || height < tile) {
            throw ImageTooSmall("the photo is ${width}x$height; hiding needs at least ${tile}x$tile pixels")
        }
        val x = span(box[0], box[2], width, tile)
        val y = span(box[1], box[3], height, tile)
        return Box(x[0], y[0], x[1], y[1])
    }

    /** Snap every box, then join overlapping ones until none overlap (a face's blend must lie in
     *  one region); sorted by (y0, x0). */
    fun merge(boxes: List<DoubleArray>, width: Int, height: Int, tile: Int): List<Box> {
        val regions = boxes.map { snap(it, width, height, tile) }.toMutableList()
        var merged = true
        while (merged) {
            merged = false
            loop@ for (i in regions.indices) for (j in i + 1 until regions.size) {
                if (regions[i].overlaps(regions[j])) {
                    val a = regions[i]
                    val b = regions.removeAt(j)
                    regions[i] = snap(doubleArrayOf(Math.min(a.x0, b.x0).toDouble(), Math.min(a.y0, b.y0).toDouble(),
                                                    Math.max(a.x1, b.x1).toDouble(), Math.max(a.y1, b.y1).toDouble()),
                                      width, height, tile)
                    merged = true
                    break@loop
                }
            }
        }
        return regions.sortedWith(compareBy({ it.y0 }, { it.x0 }))
    }

    /** Top-left corners of the region's tiles, row by row. */
    fun tileOrigins(region: Box, tile: Int): List<Pair<Int, Int>> {
        val out = ArrayList<Pair<Int, Int>>()
        for (y in region.y0 until region.y1 step tile) for (x in region.x0 until region.x1 step tile) out.add(x to y)
        return out
    }
}
