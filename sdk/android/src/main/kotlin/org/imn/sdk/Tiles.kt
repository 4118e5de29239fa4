package org.imn.sdk

/** A box `(x0, y0, x1, y1)` in whole pixels, x1 and y1 exclusive. */
data class Box(val x0: Int, val y0: Int, val x1: Int, val y1: Int) {
    val width get() = x1 - x0
    val height get() = y1 - y0

    fun overlaps(o: Box): Boolean = x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1
    fun contains(x: Double, y: Double): Boolean = x0 <= x && x < x1 && y0 <= y && y < y1
}

/** Hidden regions: tiles of the hiding graph's size over each face, merged when they overlap, so
 *  hiding runs at the photo's native resolution with static graph shapes (sdk/spec/photo.md §4;
 *  sdk/python/imn_sdk/tiles.py). Neighbouring tiles of a keyless photo overlap by `2 * margin`
 *  pixels and each keeps only its core: the network reveals a tile's outermost pixels worse than
 *  its interior, and tiles laid edge to edge left faint lines in recovered faces (issue #16). */
object Tiles {
    const val MARGIN = 16  // keyless photos (format 3); 0 for sealed regions and photos of format 1

    /** A tile at `(x, y)` and the part of it written back, `core` (absolute, exclusive). */
    data class Tile(val x: Int, val y: Int, val core: Box)

    private fun pitch(tile: Int, margin: Int): Int {
        // Even: tile origins stay on the Haar transform's 2-px grid, as at hide time.
        require(margin >= 0 && margin % 2 == 0 && 2 * margin < tile) { "tile margin $margin must be even and below half the tile $tile" }
        return tile - 2 * margin
    }

    private fun span(low: Double, high: Double, limit: Int, tile: Int, margin: Int): IntArray {
        val pitch = pitch(tile, margin)
        val tiles = Math.max(1, 1 + Math.ceil((high - low - tile) / pitch).toInt())
        val length = tile + (Math.min(tiles, 1 + (limit - tile) / pitch) - 1) * pitch
        // Math.rint rounds half to even, as Python's round() does.
        var start = Math.rint((low + high) / 2 - length / 2.0).toInt()
        start = Math.min(Math.max(start, 0), limit - length)
        return intArrayOf(start, start + length)
    }

    /** The smallest region of whole tiles around `box` (as far as the photo allows), inside the
     *  photo: `tile + k * (tile - 2 * margin)` pixels along each axis. */
    fun snap(box: DoubleArray, width: Int, height: Int, tile: Int, margin: Int = 0): Box {
        if (width < tile || height < tile) {
            throw ImageTooSmall("the photo is ${width}x$height; hiding needs at least ${tile}x$tile pixels")
        }
        val x = span(box[0], box[2], width, tile, margin)
        val y = span(box[1], box[3], height, tile, margin)
        return Box(x[0], y[0], x[1], y[1])
    }

    /** Snap every box, then join overlapping ones until none overlap (a face's blend must lie in
     *  one region); sorted by (y0, x0). */
    fun merge(boxes: List<DoubleArray>, width: Int, height: Int, tile: Int, margin: Int = 0): List<Box> {
        val regions = boxes.map { snap(it, width, height, tile, margin) }.toMutableList()
        var merged = true
        while (merged) {
            merged = false
            loop@ for (i in regions.indices) for (j in i + 1 until regions.size) {
                if (regions[i].overlaps(regions[j])) {
                    val a = regions[i]
                    val b = regions.removeAt(j)
                    regions[i] = snap(doubleArrayOf(Math.min(a.x0, b.x0).toDouble(), Math.min(a.y0, b.y0).toDouble(),
                                                    Math.max(a.x1, b.x1).toDouble(), Math.max(a.y1, b.y1).toDouble()),
                                      width, height, tile, margin)
                    merged = true
                    break@loop
                }
            }
        }
        return regions.sortedWith(compareBy({ it.y0 }, { it.x0 }))
    }

    /** Whether a region side of `length` pixels is whole tiles of this layout. */
    fun fits(length: Int, tile: Int, margin: Int): Boolean = length >= tile && (length - tile) % pitch(tile, margin) == 0

    /** (origin, core start, core end) of each tile along one axis of a region. */
    private fun axis(start: Int, end: Int, tile: Int, margin: Int): List<IntArray> {
        require(fits(end - start, tile, margin)) { "a region side of ${end - start} px is not whole $tile-px tiles with margin $margin" }
        val origins = (start..end - tile step pitch(tile, margin)).toList()
        val cuts = listOf(start) + origins.drop(1).map { it + margin } + listOf(end)
        return origins.mapIndexed { i, o -> intArrayOf(o, cuts[i], cuts[i + 1]) }
    }

    /** Each tile of `region`, row by row: the `tile`-px square at `(x, y)` and its core. */
    fun tileLayout(region: Box, tile: Int, margin: Int = 0): List<Tile> {
        val xs = axis(region.x0, region.x1, tile, margin)
        val ys = axis(region.y0, region.y1, tile, margin)
        return ys.flatMap { y -> xs.map { x -> Tile(x[0], y[0], Box(x[1], y[1], x[2], y[2])) } }
    }
}
