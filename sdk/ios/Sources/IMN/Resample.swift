import Foundation

/// The resamplers of the photo pipeline, giving exactly Pillow's pixels as the Python SDK does
/// (golden vectors pin them): box-filter resize, bicubic affine warp of RGB, bilinear affine warp
/// of a float plane. An affine `outToIn` is `[a, b, c, d, e, f]`: output pixel centre
/// (x + 0.5, y + 0.5) reads the input at (a·x' + b·y' + c, d·x' + e·y' + f); outside gives 0.
public enum Resample {
    // Pillow's fixed point for 8-bit convolution: 32 bits − 8 of pixel − 2 of headroom.
    static let precisionBits = 32 - 8 - 2

    static func boxCoefficients(_ inSize: Int, _ outSize: Int) -> (start: [Int], weights: [[Int]]) {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = 0.5 * filterScale
        var start = [Int](repeating: 0, count: outSize)
        var weights = [[Int]](repeating: [], count: outSize)
        for xx in 0..<outSize {
            let centre = (Double(xx) + 0.5) * scale
            let xmin = max(Int(centre - support + 0.5), 0)
            let xmax = min(Int(centre + support + 0.5), inSize) - xmin
            let k: [Double] = (0..<max(xmax, 0)).map { x in
                let t = (Double(x + xmin) - centre + 0.5) / filterScale
                return (t >= -0.5 && t < 0.5) ? 1.0 : 0.0
            }
            let total = k.reduce(0, +)
            start[xx] = xmin
            weights[xx] = k.map { v in
                let w = total != 0 ? v / total : v
                let scaled = w * Double(1 << precisionBits)
                return w < 0 ? Int(-0.5 + scaled) : Int(0.5 + scaled)
            }
        }
        return (start, weights)
    }

    static func clip8(_ acc: Int) -> UInt8 { UInt8(min(255, max(0, acc >> precisionBits))) }

    static func horizontal(_ image: RGBImage, _ outWidth: Int) -> RGBImage {
        let k = boxCoefficients(image.width, outWidth)
        var out = RGBImage(width: outWidth, height: image.height)
        for y in 0..<image.height { for xx in 0..<outWidth { for c in 0..<3 {
            var acc = 1 << (precisionBits - 1)
            for (i, w) in k.weights[xx].enumerated() { acc += image.at(k.start[xx] + i, y, c) * w }
            out.pixels[(y * outWidth + xx) * 3 + c] = clip8(acc)
        } } }
        return out
    }

    static func vertical(_ image: RGBImage, _ outHeight: Int) -> RGBImage {
        let k = boxCoefficients(image.height, outHeight)
        var out = RGBImage(width: image.width, height: outHeight)
        for yy in 0..<outHeight { for x in 0..<image.width { for c in 0..<3 {
            var acc = 1 << (precisionBits - 1)
            for (i, w) in k.weights[yy].enumerated() { acc += image.at(x, k.start[yy] + i, c) * w }
            out.pixels[(yy * image.width + x) * 3 + c] = clip8(acc)
        } } }
        return out
    }

    /// Pillow's `resize((w, h), Image.BOX)`: horizontal pass, then vertical.
    public static func boxResize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        var out = image
        if width != image.width { out = horizontal(out, width) }
        if height != image.height { out = vertical(out, height) }
        return out
    }

    @inline(__always) static func clamp(_ v: Int, _ size: Int) -> Int { v < 0 ? 0 : (v < size ? v : size - 1) }

    @inline(__always) static func cubic(_ v1: Double, _ v2: Double, _ v3: Double, _ v4: Double, _ d: Double) -> Double {
        let p2 = -v1 + v3
        let p3 = 2 * (v1 - v2) + v3 - v4
        let p4 = -v1 + v2 - v3 + v4
        return v2 + d * (p2 + d * (p3 + d * p4))
    }

    /// Pillow's sampling grid for an affine warp: for each output pixel whose centre maps inside
    /// the input, the integer corner (x0, y0) and the fractions (dx, dy) past it.
    static func forEachSample(_ outToIn: [Double], w: Int, h: Int, width: Int, height: Int,
                              _ body: (_ x: Int, _ y: Int, _ x0: Int, _ y0: Int, _ dx: Double, _ dy: Double) -> Void) {
        for y in 0..<height {
            for x in 0..<width {
                let xin = outToIn[0] * (Double(x) + 0.5) + outToIn[1] * (Double(y) + 0.5) + outToIn[2]
                let yin = outToIn[3] * (Double(x) + 0.5) + outToIn[4] * (Double(y) + 0.5) + outToIn[5]
                if xin < 0 || xin >= Double(w) || yin < 0 || yin >= Double(h) { continue }
                let x0 = Int(floor(xin - 0.5)), y0 = Int(floor(yin - 0.5))
                body(x, y, x0, y0, xin - 0.5 - Double(x0), yin - 0.5 - Double(y0))
            }
        }
    }

    /// Pillow's `transform(size, AFFINE, outToIn, BICUBIC)` of an RGB image.
    public static func warpBicubic(_ image: RGBImage, _ outToIn: [Double], width: Int, height: Int) -> RGBImage {
        var out = RGBImage(width: width, height: height)
        let w = image.width, h = image.height
        var rows = [Double](repeating: 0, count: 4)
        forEachSample(outToIn, w: w, h: h, width: width, height: height) { x, y, x0, y0, dx, dy in
            let xs = (0..<4).map { clamp(x0 - 1 + $0, w) }
            for c in 0..<3 {
                for i in 0..<4 {
                    let row = y0 - 1 + i
                    if i == 0 || (row >= 0 && row < h) {
                        let r = i == 0 ? clamp(row, h) : row
                        rows[i] = cubic(Double(image.at(xs[0], r, c)), Double(image.at(xs[1], r, c)),
                                        Double(image.at(xs[2], r, c)), Double(image.at(xs[3], r, c)), dx)
                    } else {
                        rows[i] = rows[i - 1]
                    }
                }
                let v = cubic(rows[0], rows[1], rows[2], rows[3], dy)
                // Pillow truncates after clipping, it does not round.
                out.pixels[(y * width + x) * 3 + c] = v <= 0 ? 0 : (v >= 255 ? 255 : UInt8(v))
            }
        }
        return out
    }

    /// Pillow's `transform(size, AFFINE, outToIn, BILINEAR)` of a float plane `(h, w)`.
    public static func warpBilinear(_ plane: [Float], w: Int, h: Int, _ outToIn: [Double], width: Int, height: Int) -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        forEachSample(outToIn, w: w, h: h, width: width, height: height) { x, y, x0, y0, dx, dy in
            let a = clamp(x0, w), b = clamp(x0 + 1, w)
            var row = clamp(y0, h) * w
            let v1 = Double(plane[row + a]) + (Double(plane[row + b]) - Double(plane[row + a])) * dx
            var v2 = v1
            if y0 + 1 >= 0 && y0 + 1 < h {
                row = (y0 + 1) * w
                v2 = Double(plane[row + a]) + (Double(plane[row + b]) - Double(plane[row + a])) * dx
            }
            out[y * width + x] = Float(v1 + (v2 - v1) * dy)
        }
        return out
    }
}
