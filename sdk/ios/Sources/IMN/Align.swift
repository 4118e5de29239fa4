import Foundation

/// A 2-D affine map `(x, y) → (a·x + b·y + c, d·x + e·y + f)`, stored `[a, b, c, d, e, f]`.
public struct Affine {
    public let m: [Double]

    public init(_ m: [Double]) { precondition(m.count == 6); self.m = m }

    public func mapX(_ x: Double, _ y: Double) -> Double { m[0] * x + m[1] * y + m[2] }
    public func mapY(_ x: Double, _ y: Double) -> Double { m[3] * x + m[4] * y + m[5] }

    public func inverse() -> Affine {
        let det = m[0] * m[4] - m[1] * m[3]
        precondition(det != 0, "the transform is singular")
        let a = m[4] / det, b = -m[1] / det, d = -m[3] / det, e = m[0] / det
        return Affine([a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])])
    }

    /// This map after translating by (dx, dy).
    public func shifted(_ dx: Double, _ dy: Double) -> Affine {
        Affine([m[0], m[1], m[0] * dx + m[1] * dy + m[2], m[3], m[4], m[3] * dx + m[4] * dy + m[5]])
    }
}

/// Five-point alignment to the Mask-net crop and the feathered face blend (photo.md §3).
public enum Align {
    public static let template: [[Double]] = [[96.50, 119.44], [156.95, 119.51], [124.66, 154.50],
                                              [99.18, 182.30], [154.55, 182.60]].map { $0.map { $0 / 256 } }
    static let ellipseCentre = (0.49, 0.55)
    static let ellipseRadii = (0.34, 0.44)
    static let feather = 0.08

    /// Least-squares similarity (no reflection) mapping `src[i]` onto `dst[i]`: Umeyama's
    /// solution in closed form for two dimensions.
    public static func similarity(_ src: [[Double]], _ dst: [[Double]]) -> Affine {
        let n = Double(src.count)
        let ms = (src.map { $0[0] }.reduce(0, +) / n, src.map { $0[1] }.reduce(0, +) / n)
        let md = (dst.map { $0[0] }.reduce(0, +) / n, dst.map { $0[1] }.reduce(0, +) / n)
        var dot = 0.0, cross = 0.0, variance = 0.0
        for i in 0..<src.count {
            let ax = src[i][0] - ms.0, ay = src[i][1] - ms.1
            let bx = dst[i][0] - md.0, by = dst[i][1] - md.1
            dot += ax * bx + ay * by
            cross += ax * by - ay * bx
            variance += ax * ax + ay * ay
        }
        let norm = hypot(dot, cross)
        let scale = norm / variance
        let c = scale * dot / norm, s = scale * cross / norm
        return Affine([c, -s, md.0 - (c * ms.0 - s * ms.1), s, c, md.1 - (s * ms.0 + c * ms.1)])
    }

    public static func cropTransform(_ landmarks: [[Double]], size: Int) -> Affine {
        similarity(landmarks, template.map { [$0[0] * Double(size), $0[1] * Double(size)] })
    }

    public static func alignedCrop(_ photo: RGBImage, _ toCrop: Affine, size: Int) -> RGBImage {
        Resample.warpBicubic(photo, toCrop.inverse().m, width: size, height: size)
    }

    /// `(size, size)` weights: 1 inside the face ellipse, fading out over `feather`.
    public static func faceAlpha(size: Int) -> [Float] {
        let edge = feather / min(ellipseRadii.0, ellipseRadii.1)
        return (0..<size * size).map { i in
            let u = (Double(i % size) + 0.5) / Double(size)
            let v = (Double(i / size) + 0.5) / Double(size)
            let du = (u - ellipseCentre.0) / ellipseRadii.0, dv = (v - ellipseCentre.1) / ellipseRadii.1
            let r = (du * du + dv * dv).squareRoot()
            return Float(min(1, max(0, (1 + edge / 2 - r) / edge)))
        }
    }

    /// Photo-space bounds `[x0, y0, x1, y1]` of the feathered ellipse.
    public static func blendBox(_ toCrop: Affine, size: Int) -> [Double] {
        let grow = 1 + feather / min(ellipseRadii.0, ellipseRadii.1)
        let back = toCrop.inverse()
        var box = [Double.greatestFiniteMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        for k in 0..<72 {
            let t = 2 * Double.pi * Double(k) / 72
            let px = (ellipseCentre.0 + grow * ellipseRadii.0 * cos(t)) * Double(size)
            let py = (ellipseCentre.1 + grow * ellipseRadii.1 * sin(t)) * Double(size)
            let x = back.mapX(px, py), y = back.mapY(px, py)
            box = [min(box[0], x), min(box[1], y), max(box[2], x), max(box[3], y)]
        }
        return [floor(box[0]), floor(box[1]), ceil(box[2]), ceil(box[3])]
    }

    /// Photo-space bounds `[x0, y0, x1, y1]` of the `size` crop: its corners mapped back.
    public static func footprint(_ toCrop: Affine, size: Int) -> [Int] {
        let back = toCrop.inverse()
        let corners = [(0.0, 0.0), (Double(size), 0.0), (0.0, Double(size)), (Double(size), Double(size))]
        let xs = corners.map { back.mapX($0.0, $0.1) }, ys = corners.map { back.mapY($0.0, $0.1) }
        return [Int(floor(xs.min()!)), Int(floor(ys.min()!)), Int(ceil(xs.max()!)), Int(ceil(ys.max()!))]
    }

    /// `(h, w)` over `box`: where any face's blend weight is nonzero, grown by `margin` pixels
    /// (square max filter), so landmarks rounded in the metadata still cover the blend.
    public static func blendSupport(_ toCrops: [Affine], size: Int, box: Box, margin: Int = 2) -> [Bool] {
        let w = box.width, h = box.height
        var touched = [Bool](repeating: false, count: w * h)
        let alpha = faceAlpha(size: size)
        for toCrop in toCrops {
            // Outside its footprint a face's weight is 0 anyway: warp only there.
            let f = footprint(toCrop, size: size)
            let ax0 = max(f[0], box.x0), ay0 = max(f[1], box.y0), ax1 = min(f[2], box.x1), ay1 = min(f[3], box.y1)
            if ax1 <= ax0 || ay1 <= ay0 { continue }
            let aw = ax1 - ax0
            let weight = Resample.warpBilinear(alpha, w: size, h: size, toCrop.shifted(Double(ax0), Double(ay0)).m, width: aw, height: ay1 - ay0)
            for i in weight.indices where weight[i] > 0 { touched[(ay0 - box.y0 + i / aw) * w + ax0 - box.x0 + i % aw] = true }
        }
        var grown = [Bool](repeating: false, count: w * h)
        for y in 0..<h {
            for x in 0..<w where touched[y * w + x] {
                for yy in max(0, y - margin)...min(h - 1, y + margin) {
                    for xx in max(0, x - margin)...min(w - 1, x + margin) { grown[yy * w + xx] = true }
                }
            }
        }
        return grown
    }

    /// Blends `crop` into `photo` through the feathered ellipse, only inside `limit`
    /// `[x0, y0, x1, y1]`, in the Python SDK's float32 arithmetic.
    public static func pasteBack(_ photo: inout RGBImage, _ crop: RGBImage, _ toCrop: Affine, limit: [Int]) {
        let size = crop.width
        let f = footprint(toCrop, size: size)
        let x0 = max(max(f[0], 0), limit[0]), y0 = max(max(f[1], 0), limit[1])
        let x1 = min(min(f[2], photo.width), limit[2]), y1 = min(min(f[3], photo.height), limit[3])
        if x1 <= x0 || y1 <= y0 { return }
        let w = x1 - x0, h = y1 - y0
        let boxToCrop = toCrop.shifted(Double(x0), Double(y0))
        let face = Resample.warpBicubic(crop, boxToCrop.m, width: w, height: h)
        let alpha = Resample.warpBilinear(faceAlpha(size: size), w: size, h: size, boxToCrop.m, width: w, height: h)
        for y in 0..<h {
            for x in 0..<w {
                let a = alpha[y * w + x]
                if a == 0 { continue }
                for c in 0..<3 {
                    let i = ((y0 + y) * photo.width + x0 + x) * 3 + c
                    let v: Float = Float(photo.pixels[i]) * (1 - a) + Float(face.at(x, y, c)) * a
                    photo.pixels[i] = UInt8(min(255, max(0, Double(v).rounded(.toNearestOrEven))))
                }
            }
        }
    }
}
