import Foundation

/// One graph of a bundle: inputs and outputs in the manifest's order.
public protocol Graph {
    func run(_ inputs: [Tensor]) throws -> [Tensor]
}

/// One detected face in photo pixels: box `[x1, y1, x2, y2]`, score, five float32 landmarks.
public struct Face {
    public let box: [Double]
    public let score: Float
    public let landmarks: [[Float]]
    public var width: Double { box[2] - box[0] }
}

/// MTCNN's cascade (photo.md §2), step for step the Python SDK's detect.py and the Kotlin
/// SDK's Detect.kt, including where they compute in float32 and where in float64.
public enum Detect {
    static let thresholds = [0.6, 0.7, 0.8]
    static let scaleFactor = 0.709
    static let cell = 12, stride = 2
    static let outside = Float(127.5 / 255)

    public static func scalePyramid(height: Int, width: Int, minFace: Double) -> [Double] {
        var scales: [Double] = [], scale = Double(cell) / minFace
        while Double(min(height, width)) * scale >= Double(cell) { scales.append(scale); scale *= scaleFactor }
        return scales
    }

    public static func levelSide(_ side: Int, _ scale: Double) -> Int { 2 * max(1, Int(ceil(Double(side) * scale / 2))) }

    public static func nms(_ boxes: [[Double]], _ scores: [Double], _ threshold: Double, overSmaller: Bool = false) -> [Int] {
        // Stable sort by descending score.
        var order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        var keep: [Int] = []
        while let i = order.first {
            keep.append(i)
            let a = boxes[i], areaI = (a[2] - a[0] + 1) * (a[3] - a[1] + 1)
            order = order.dropFirst().filter { j in
                let b = boxes[j]
                let w = max(0, min(a[2], b[2]) - max(a[0], b[0]) + 1), h = max(0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
                let inter = w * h, areaJ = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
                return inter / (overSmaller ? min(areaI, areaJ) : areaI + areaJ - inter) <= threshold
            }
        }
        return keep
    }

    static func square(_ b: [Double]) -> [Double] {
        let w = b[2] - b[0], h = b[3] - b[1], side = max(w, h)
        let x1 = b[0] + w / 2 - side / 2, y1 = b[1] + h / 2 - side / 2
        return [x1, y1, x1 + side, y1 + side]
    }

    static func regress(_ b: [Double], _ offsets: [Float], _ at: Int) -> [Double] {
        let w = b[2] - b[0] + 1, h = b[3] - b[1] + 1
        return [b[0] + Double(offsets[at]) * w, b[1] + Double(offsets[at + 1]) * h,
                b[2] + Double(offsets[at + 2]) * w, b[3] + Double(offsets[at + 3]) * h]
    }

    public static func cropPatches(_ image: RGBImage, _ boxes: [[Double]], size: Int) -> Tensor {
        let plane = size * size
        var data = [Float](repeating: 0, count: boxes.count * 3 * plane)
        let steps = (0..<size).map { $0 == size - 1 ? 1.0 : Double($0) * (1.0 / Double(size - 1)) }
        func at(_ y: Int, _ x: Int, _ c: Int) -> Double {
            Double(y < 0 || y >= image.height || x < 0 || x >= image.width ? outside : Float(image.at(x, y, c)) / 255)
        }
        for (n, b) in boxes.enumerated() {
            for i in 0..<size {
                for j in 0..<size {
                    let ys = b[1] + steps[i] * (b[3] - b[1]), xs = b[0] + steps[j] * (b[2] - b[0])
                    let y0 = Int(floor(ys)), x0 = Int(floor(xs))
                    let fy = ys - Double(y0), fx = xs - Double(x0)
                    for c in 0..<3 {
                        var v = at(y0, x0, c) * (1 - fy) * (1 - fx)
                        v += at(y0, x0 + 1, c) * (1 - fy) * fx
                        v += at(y0 + 1, x0, c) * fy * (1 - fx)
                        v += at(y0 + 1, x0 + 1, c) * fy * fx
                        data[((n * 3 + c) * size + i) * size + j] = Float(v)
                    }
                }
            }
        }
        return Tensor(shape: [boxes.count, 3, size, size], data: data)
    }

    static func proposals(_ image: RGBImage, _ pnet: Graph, _ minFace: Double) throws -> [[Double]] {
        var found: [[Double]] = []
        for scale in scalePyramid(height: image.height, width: image.width, minFace: minFace) {
            let level = Resample.boxResize(image, width: levelSide(image.width, scale), height: levelSide(image.height, scale))
            let out = try pnet.run([Tensor.from(image: level)])
            let offsets = out[0], prob = out[1]
            let rows = prob.shape[1], cols = prob.shape[2]
            var boxes: [[Double]] = [], scores: [Double] = []
            for y in 0..<rows {
                for x in 0..<cols {
                    let p = prob.data[y * cols + x]
                    if Double(p) <= thresholds[0] { continue }
                    let cellBox = [x * stride, y * stride, x * stride + cell, y * stride + cell]
                    boxes.append((0..<4).map { k in
                        (Double(cellBox[k]) + Double(offsets.data[(k * rows + y) * cols + x] * Float(cell))) / scale
                    })
                    scores.append(Double(p))
                }
            }
            for i in nms(boxes, scores, 0.5) { found.append(boxes[i] + [scores[i]]) }
        }
        if found.isEmpty { return [] }
        return nms(found, found.map { $0[4] }, 0.7).map { square(Array(found[$0][0..<4])) + [found[$0][4]] }
    }

    /// Faces of an RGB photo, widest first; `graphs` holds pnet, rnet, onet.
    public static func detectFaces(_ image: RGBImage, _ graphs: [String: Graph], minFace: Double = 20) throws -> [Face] {
        var boxes = try proposals(image, graphs["pnet"]!, minFace).map { Array($0[0..<4]) }
        if boxes.isEmpty { return [] }
        let r = try graphs["rnet"]!.run([cropPatches(image, boxes, size: 24)])
        var kept = boxes.indices.filter { Double(r[1].data[$0]) > thresholds[1] }
        if kept.isEmpty { return [] }
        let survivors = kept.map { boxes[$0] }
        let keep = nms(survivors, kept.map { Double(r[1].data[$0]) }, 0.7)
        boxes = keep.map { square(regress(survivors[$0], r[0].data, 4 * kept[$0])) }

        let o = try graphs["onet"]!.run([cropPatches(image, boxes, size: 48)])
        kept = boxes.indices.filter { Double(o[2].data[$0]) > thresholds[2] }
        if kept.isEmpty { return [] }
        let landmarks: [[[Float]]] = kept.map { n in
            let b = boxes[n], w = b[2] - b[0] + 1, h = b[3] - b[1] + 1
            return (0..<5).map { k in [Float(b[0] + w * Double(o[1].data[n * 10 + k]) - 1),
                                       Float(b[1] + h * Double(o[1].data[n * 10 + 5 + k]) - 1)] }
        }
        let regressed = kept.map { regress(boxes[$0], o[0].data, 4 * $0) }
        let faces = nms(regressed, kept.map { Double(o[2].data[$0]) }, 0.7, overSmaller: true).map {
            Face(box: regressed[$0], score: o[2].data[kept[$0]], landmarks: landmarks[$0])
        }
        // Stable: widest first, ties in NMS order.
        return faces.enumerated().sorted { ($0.element.width, -$0.offset) > ($1.element.width, -$1.offset) }.map { $0.element }
    }
}

/// A whole-level PNet from a static graph of input `[1, 3, window, window]`: zero-padded windows
/// at even offsets, each adding its first `window/2 − 5` cells per axis (photo.md §2).
public struct WindowedPNet: Graph {
    let graph: Graph
    let window: Int

    public init(_ graph: Graph, window: Int) { self.graph = graph; self.window = window }

    func starts(_ length: Int) -> [Int] {
        length <= window ? [0] : Array(stride(from: 0, to: length - window, by: window - 10)) + [length - window]
    }

    public func run(_ inputs: [Tensor]) throws -> [Tensor] {
        let image = inputs[0], h = image.shape[2], w = image.shape[3]
        precondition(h % 2 == 0 && w % 2 == 0, "PNet windows need an even-sized level")
        let rows = h / 2 - 5, cols = w / 2 - 5, cells = window / 2 - 5
        var offsets = [Float](repeating: 0, count: 4 * rows * cols), prob = [Float](repeating: 0, count: rows * cols)
        for y in starts(h) {
            for x in starts(w) {
                var patch = [Float](repeating: 0, count: 3 * window * window)
                for c in 0..<3 {
                    for i in 0..<min(window, h - y) {
                        let from = (c * h + y + i) * w + x, n = min(window, w - x)
                        patch.replaceSubrange((c * window + i) * window..<(c * window + i) * window + n, with: image.data[from..<from + n])
                    }
                }
                let out = try graph.run([Tensor(shape: [1, 3, window, window], data: patch)])
                let r = min(cells, rows - y / 2), cc = min(cells, cols - x / 2)
                let outRows = out[0].shape[2], outCols = out[0].shape[3]
                for i in 0..<r {
                    for j in 0..<cc {
                        prob[(y / 2 + i) * cols + x / 2 + j] = out[1].data[i * outCols + j]
                        for k in 0..<4 { offsets[(k * rows + y / 2 + i) * cols + x / 2 + j] = out[0].data[(k * outRows + i) * outCols + j] }
                    }
                }
            }
        }
        return [Tensor(shape: [1, 4, rows, cols], data: offsets), Tensor(shape: [1, rows, cols], data: prob)]
    }
}

/// An N-box RNet or ONet from a static graph of batch 1.
public struct OneByOne: Graph {
    let graph: Graph

    public init(_ graph: Graph) { self.graph = graph }

    public func run(_ inputs: [Tensor]) throws -> [Tensor] {
        let patches = inputs[0], n = patches.shape[0], each = patches.data.count / n
        let parts = try (0..<n).map { i in
            try graph.run([Tensor(shape: [1] + patches.shape.dropFirst(), data: Array(patches.data[i * each..<(i + 1) * each]))])
        }
        return parts[0].indices.map { k in
            Tensor(shape: [n] + parts[0][k].shape.dropFirst(), data: parts.flatMap { $0[k].data })
        }
    }
}
