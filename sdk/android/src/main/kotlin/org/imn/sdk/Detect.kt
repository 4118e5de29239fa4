package org.imn.sdk

/** One detected face in photo pixel coordinates: box `(x1, y1, x2, y2)`, score, and five
 *  landmarks `(x, y)` (left eye, right eye, nose, mouth corners) as float32, like the Python SDK. */
class Face(val box: DoubleArray, val score: Float, val landmarks: Array<FloatArray>) {
    val width get() = box[2] - box[0]
}

/**
 * MTCNN's cascade around the bundle's three detector graphs: pyramid → PNet proposals → RNet
 * refinement → ONet boxes and five landmarks (sdk/spec/photo.md §2), step for step the Python
 * SDK's `detect.py`, including where it computes in float32 and where in float64.
 */
object Detect {
    val THRESHOLDS = doubleArrayOf(0.6, 0.7, 0.8)
    const val SCALE_FACTOR = 0.709
    private const val CELL = 12
    private const val STRIDE = 2
    private const val OUTSIDE = (127.5 / 255).toFloat()  // what MTCNN's normalisation maps to 0

    /** Scales at which a `minFace`-pixel face fills PNet's 12-px cell, down to a 12-px image. */
    fun scalePyramid(height: Int, width: Int, minFace: Double): List<Double> {
        val scales = ArrayList<Double>()
        var scale = CELL / minFace
        while (Math.min(height, width) * scale >= CELL) {
            scales.add(scale)
            scale *= SCALE_FACTOR
        }
        return scales
    }

    /** A pyramid level's side, rounded up to even: PNet's pooling then has no partial window and
     *  [WindowedPnet] reproduces the whole-level run exactly. */
    fun levelSide(side: Int, scale: Double): Int = 2 * Math.max(1, Math.ceil(side * scale / 2).toInt())

    /** Indices kept by greedy non-maximum suppression of `boxes (N, 4)`, best score first;
     *  overlap over the union, or over the smaller box when `overSmaller`. */
    fun nms(boxes: List<DoubleArray>, scores: DoubleArray, threshold: Double, overSmaller: Boolean = false): List<Int> {
        var order = scores.indices.sortedByDescending { scores[it] }
        val keep = ArrayList<Int>()
        while (order.isNotEmpty()) {
            val i = order[0]
            keep.add(i)
            val a = boxes[i]
            val areaI = (a[2] - a[0] + 1) * (a[3] - a[1] + 1)
            order = order.drop(1).filter { j ->
                val b = boxes[j]
                val w = Math.max(0.0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]) + 1)
                val h = Math.max(0.0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]) + 1)
                val inter = w * h
                val areaJ = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
                val denominator = if (overSmaller) Math.min(areaI, areaJ) else areaI + areaJ - inter
                inter / denominator <= threshold
            }
        }
        return keep
    }

    /** The box grown to a square about its centre. */
    fun square(b: DoubleArray): DoubleArray {
        val w = b[2] - b[0]
        val h = b[3] - b[1]
        val side = Math.max(w, h)
        val x1 = b[0] + w / 2 - side / 2
        val y1 = b[1] + h / 2 - side / 2
        return doubleArrayOf(x1, y1, x1 + side, y1 + side)
    }

    /** The box moved by the network's offsets (shares of its inclusive width and height). */
    fun regress(b: DoubleArray, offsets: FloatArray, at: Int): DoubleArray {
        val w = b[2] - b[0] + 1
        val h = b[3] - b[1] + 1
        return doubleArrayOf(b[0] + offsets[at] * w, b[1] + offsets[at + 1] * h,
                             b[2] + offsets[at + 2] * w, b[3] + offsets[at + 3] * h)
    }

    /** Bilinear `size`×`size` samples of each box as `[N, 3, size, size]` in [0, 1]; outside the
     *  photo reads as mid-grey. */
    fun cropPatches(image: RgbImage, boxes: List<DoubleArray>, size: Int): Tensor {
        val plane = size * size
        val data = FloatArray(boxes.size * 3 * plane)
        val steps = DoubleArray(size) { if (it == size - 1) 1.0 else it * (1.0 / (size - 1)) }
        fun at(y: Int, x: Int, c: Int): Float =
            if (y < 0 || y >= image.height || x < 0 || x >= image.width) OUTSIDE else image.at(x, y, c).toFloat() / 255f
        for ((n, b) in boxes.withIndex()) for (i in 0 until size) for (j in 0 until size) {
            val ys = b[1] + steps[i] * (b[3] - b[1])
            val xs = b[0] + steps[j] * (b[2] - b[0])
            val y0 = Math.floor(ys).toInt()
            val x0 = Math.floor(xs).toInt()
            val fy = ys - y0
            val fx = xs - x0
            for (c in 0 until 3) {
                val v = at(y0, x0, c) * (1 - fy) * (1 - fx) + at(y0, x0 + 1, c) * (1 - fy) * fx +
                        at(y0 + 1, x0, c) * fy * (1 - fx) + at(y0 + 1, x0 + 1, c) * fy * fx
                data[((n * 3 + c) * size + i) * size + j] = v.toFloat()
            }
        }
        return Tensor(intArrayOf(boxes.size, 3, size, size), data)
    }

    private fun proposals(image: RgbImage, pnet: Graph, minFace: Double): List<DoubleArray> {
        val found = ArrayList<DoubleArray>()  // x1, y1, x2, y2, score
        for (scale in scalePyramid(image.height, image.width, minFace)) {
            val w = levelSide(image.width, scale)
            val h = levelSide(image.height, scale)
            val (offsets, prob) = pnet.run(listOf(Tensor.fromImage(Resample.boxResize(image, w, h))))
            val rows = prob.shape[1]
            val cols = prob.shape[2]
            val boxes = ArrayList<DoubleArray>()
            val scores = ArrayList<Double>()
            for (y in 0 until rows) for (x in 0 until cols) {
                val p = prob.data[y * cols + x]
                if (p <= THRESHOLDS[0]) continue
                val cell = intArrayOf(x * STRIDE, y * STRIDE, x * STRIDE + CELL, y * STRIDE + CELL)
                // offsets · 12 in float32, then the float64 sum, as NumPy promotes them.
                boxes.add(DoubleArray(4) { k ->
                    (cell[k].toDouble() + (offsets.data[(k * rows + y) * cols + x] * CELL.toFloat()).toDouble()) / scale
                })
                scores.add(p.toDouble())
            }
            for (i in nms(boxes, scores.toDoubleArray(), 0.5)) found.add(boxes[i] + scores[i])
        }
        if (found.isEmpty()) return found
        val keep = nms(found, DoubleArray(found.size) { found[it][4] }, 0.7)
        return keep.map { square(found[it]) + found[it][4] }
    }

    /** Faces of an RGB photo, widest first. `graphs` maps pnet, rnet and onet to the bundle's
     *  detector graphs. */
    fun detectFaces(image: RgbImage, graphs: Map<String, Graph>, minFace: Double = 20.0): List<Face> {
        var boxes = proposals(image, graphs.getValue("pnet"), minFace).map { it.copyOf(4) }
        if (boxes.isEmpty()) return emptyList()
        val (rOffsets, rProb) = graphs.getValue("rnet").run(listOf(cropPatches(image, boxes, 24)))
        var kept = boxes.indices.filter { rProb.data[it] > THRESHOLDS[1] }
        if (kept.isEmpty()) return emptyList()
        val survivors = kept.map { boxes[it] }
        val keep = nms(survivors, DoubleArray(kept.size) { rProb.data[kept[it]].toDouble() }, 0.7)
        boxes = keep.map { square(regress(survivors[it], rOffsets.data, 4 * kept[it])) }

        val (oOffsets, marks, oProb) = graphs.getValue("onet").run(listOf(cropPatches(image, boxes, 48)))
        kept = boxes.indices.filter { oProb.data[it] > THRESHOLDS[2] }
        if (kept.isEmpty()) return emptyList()
        val landmarks = kept.map { n ->
            val b = boxes[n]
            val w = b[2] - b[0] + 1
            val h = b[3] - b[1] + 1
            Array(5) { k -> floatArrayOf((b[0] + w * marks.data[n * 10 + k] - 1).toFloat(),
                                         (b[1] + h * marks.data[n * 10 + 5 + k] - 1).toFloat()) }
        }
        val regressed = kept.map { regress(boxes[it], oOffsets.data, 4 * it) }
        val scores = DoubleArray(kept.size) { oProb.data[kept[it]].toDouble() }
        val faces = nms(regressed, scores, 0.7, overSmaller = true).map {
            Face(regressed[it], oProb.data[kept[it]], landmarks[it])
        }
        return faces.sortedByDescending { it.width }
    }
}

/**
 * A whole-level PNet from a static graph of input `[1, 3, window, window]` (what LiteRT and
 * Core ML run): zero-padded windows at even offsets; of each, the first `window / 2 − 5` cells
 * per axis, whose receptive fields lie inside the window, so they equal the whole-level run's.
 */
class WindowedPnet(private val graph: Graph, private val window: Int) : Graph {
    private val cells = window / 2 - 5

    private fun starts(length: Int): List<Int> =
        if (length <= window) listOf(0) else (0 until length - window step window - 10).toList() + (length - window)

    override fun run(inputs: List<Tensor>): List<Tensor> {
        val image = inputs[0]
        val h = image.shape[2]
        val w = image.shape[3]
        require(h % 2 == 0 && w % 2 == 0) { "PNet windows need an even-sized level, got ${w}x$h" }
        val rows = h / 2 - 5
        val cols = w / 2 - 5
        val offsets = FloatArray(4 * rows * cols)
        val prob = FloatArray(rows * cols)
        for (y in starts(h)) for (x in starts(w)) {
            val patch = FloatArray(3 * window * window)
            for (c in 0 until 3) for (i in 0 until Math.min(window, h - y)) {
                System.arraycopy(image.data, (c * h + y + i) * w + x, patch, (c * window + i) * window, Math.min(window, w - x))
            }
            val (o, p) = graph.run(listOf(Tensor(intArrayOf(1, 3, window, window), patch)))
            val r = Math.min(cells, rows - y / 2)
            val cc = Math.min(cells, cols - x / 2)
            val outRows = o.shape[2]
            val outCols = o.shape[3]
            for (i in 0 until r) for (j in 0 until cc) {
                prob[(y / 2 + i) * cols + x / 2 + j] = p.data[i * outCols + j]
                for (k in 0 until 4) offsets[(k * rows + y / 2 + i) * cols + x / 2 + j] = o.data[(k * outRows + i) * outCols + j]
            }
        }
        return listOf(Tensor(intArrayOf(1, 4, rows, cols), offsets), Tensor(intArrayOf(1, rows, cols), prob))
    }
}

/** An N-box RNet or ONet from a static graph of batch 1: one box at a time, outputs stacked. */
class OneByOne(private val graph: Graph) : Graph {
    override fun run(inputs: List<Tensor>): List<Tensor> {
        val patches = inputs[0]
        val n = patches.shape[0]
        val each = patches.data.size / n
        val parts = (0 until n).map { i ->
            graph.run(listOf(Tensor(intArrayOf(1) + patches.shape.copyOfRange(1, patches.shape.size),
                                    patches.data.copyOfRange(i * each, (i + 1) * each))))
        }
        return parts[0].indices.map { k ->
            val first = parts[0][k]
            Tensor(intArrayOf(n) + first.shape.copyOfRange(1, first.shape.size),
                   parts.flatMap { it[k].data.asList() }.toFloatArray())
        }
    }
}
