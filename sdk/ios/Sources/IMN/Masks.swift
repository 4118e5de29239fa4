import Foundation

/// Masks v2 (sdk/spec/photo.md §3.1, the Python SDK's `masks.py`): the Mask face is a donor face
/// of nobody from the bundle's bank, colour- and light-matched to the aligned face and feathered
/// over it from brows to chin and cheek to cheek. Float arithmetic in the reference's order; sums
/// accumulate in Double, so a pixel may differ from Python's by one level ("level" tolerance).
public enum Masks {
    public static let regionCX: Float = 0.507, regionCY: Float = 0.625
    public static let regionHalfWidth: Float = 0.285
    public static let regionHalfHeightAbove: Float = 0.33, regionHalfHeightBelow: Float = 0.30
    public static let regionPower: Float = 2.5, regionFeather: Float = 0.35
    public static let statsRadius: Float = 0.75
    public static let shadingBlur = 0.10
    public static let limitLow: Float = 0.6, limitHigh: Float = 1.6

    /// A donor: its face on the `S`×`S` aligned crop and its outline (0...255), zero outside the bank's box.
    public struct Donor {
        public let face: RGBImage
        public let outline: [UInt8]

        public init(face: RGBImage, outline: [UInt8]) {
            precondition(outline.count == face.width * face.height, "an outline needs one byte per pixel")
            self.face = face
            self.outline = outline
        }
    }

    /// `(S·S)` superellipse radius of each pixel centre (1 on the region's border).
    public static func regionRadius(_ size: Int) -> [Float] {
        var out = [Float](repeating: 0, count: size * size)
        for y in 0..<size {
            let v = (Float(y) + 0.5) / Float(size)
            let halfH = v < regionCY ? regionHalfHeightAbove : regionHalfHeightBelow
            let dy = abs(v - regionCY) / halfH
            for x in 0..<size {
                let u = (Float(x) + 0.5) / Float(size)
                let dx = abs(u - regionCX) / regionHalfWidth
                let sum = Float(pow(Double(dx), Double(regionPower))) + Float(pow(Double(dy), Double(regionPower)))
                out[y * size + x] = Float(pow(Double(sum), Double(1 / regionPower)))
            }
        }
        return out
    }

    /// `(S·S)` weight in [0, 1]: 1 over the face, fading out over `regionFeather` (before the outline).
    public static func regionAlpha(_ size: Int) -> [Float] {
        regionRadius(size).map { min(1, max(0, (1 + regionFeather / 2 - $0) / regionFeather)) }
    }

    /// The bank from its decoded PNG (bundle.md, "donors"): two rows of `count` tiles of `box`'s size.
    public static func loadBank(_ atlas: RGBImage, count: Int, size: Int, box: [Int]) throws -> [Donor] {
        guard box.count == 4 else { throw IMNError.bundleMismatch("the donor bank's box needs 4 numbers, got \(box)") }
        let (x0, y0, w, h) = (box[0], box[1], box[2] - box[0], box[3] - box[1])
        guard x0 >= 0, y0 >= 0, w > 0, h > 0, box[2] <= size, box[3] <= size else {
            throw IMNError.bundleMismatch("the donor bank's box \(box) does not lie inside a \(size)-px crop")
        }
        guard atlas.width == w * count, atlas.height == 2 * h else {
            throw IMNError.bundleMismatch("the donor bank is \(atlas.width)x\(atlas.height); the manifest says two rows of \(count) donors of \(w)x\(h)")
        }
        return (0..<count).map { k in
            var face = RGBImage(width: size, height: size)
            var outline = [UInt8](repeating: 0, count: size * size)
            for y in 0..<h {
                for x in 0..<w {
                    let src = (y * atlas.width + k * w + x) * 3, dst = (y0 + y) * size + x0 + x
                    for c in 0..<3 { face.pixels[dst * 3 + c] = atlas.pixels[src + c] }
                    outline[dst] = atlas.pixels[((h + y) * atlas.width + k * w + x) * 3]
                }
            }
            return Donor(face: face, outline: outline)
        }
    }

    static func ycbcr(_ image: RGBImage) -> [[Float]] {
        let n = image.width * image.height
        var out = [[Float]](repeating: [Float](repeating: 0, count: n), count: 3)
        for i in 0..<n {
            let r = Float(image.pixels[i * 3]), g = Float(image.pixels[i * 3 + 1]), b = Float(image.pixels[i * 3 + 2])
            out[0][i] = 0.299 * r + 0.587 * g + 0.114 * b
            out[1][i] = 128 + -0.168736 * r + -0.331264 * g + 0.5 * b
            out[2][i] = 128 + 0.5 * r + -0.418688 * g + -0.081312 * b
        }
        return out
    }

    /// Per-channel mean and standard deviation under `weight`.
    static func stats(_ planes: [[Float]], _ weight: [Float]) -> ([Float], [Float]) {
        let total = Float(weight.reduce(0.0) { $0 + Double($1) })
        var mean = [Float](repeating: 0, count: 3), std = [Float](repeating: 0, count: 3)
        for c in 0..<3 {
            var s = 0.0
            for i in 0..<weight.count { s += Double(planes[c][i] * weight[i]) }
            mean[c] = Float(s) / total
            var v = 0.0
            for i in 0..<weight.count { let d = planes[c][i] - mean[c]; v += Double(d * d * weight[i]) }
            std[c] = Float(Float(v) / total).squareRoot()
        }
        return (mean, std)
    }

    /// Mean over a (2r+1)² window, edges clamped: rows, then columns.
    public static func boxBlur(_ plane: [Float], size: Int, radius: Int) -> [Float] {
        func pass(_ src: [Float], horizontal: Bool) -> [Float] {
            var out = [Float](repeating: 0, count: src.count)
            let window = Double(2 * radius + 1)
            for line in 0..<size {
                func at(_ i: Int) -> Double {
                    let j = min(size - 1, max(0, i))
                    return Double(horizontal ? src[line * size + j] : src[j * size + line])
                }
                var sum = 0.0
                for i in -radius...radius { sum += at(i) }
                for i in 0..<size {
                    out[horizontal ? line * size + i : i * size + line] = Float(sum / window)
                    sum += at(i + radius + 1) - at(i - radius)
                }
            }
            return out
        }
        return pass(pass(plane, horizontal: true), horizontal: false)
    }

    /// The Mask `(S, S)`: `donor` matched to the colour and light of the aligned `face` and blended over it.
    public static func compose(_ face: RGBImage, _ donor: Donor) -> RGBImage {
        let size = face.width, n = size * size
        precondition(face.height == size && donor.face.width == size && donor.face.height == size,
                     "face and donor must be S x S of one size")
        let radius = regionRadius(size)
        let outline = donor.outline.map { Float($0) / 255 }
        let alpha = (0..<n).map { min(1, max(0, (1 + regionFeather / 2 - radius[$0]) / regionFeather)) * outline[$0] }
        let inner = radius.map { $0 < statsRadius ? Float(1) : Float(0) }
        // No donor face where it would go: nothing to put there.
        if !(0..<n).contains(where: { inner[$0] > 0 && donor.outline[$0] != 0 }) { return face }
        let f = ycbcr(face), d = ycbcr(donor.face)
        let (fMean, fStd) = stats(f, inner)
        let (dMean, dStd) = stats(d, (0..<n).map { inner[$0] * outline[$0] })
        var matched = (0..<3).map { c -> [Float] in
            let gain = min(limitHigh, max(limitLow, fStd[c] / max(dStd[c], 1)))
            return d[c].map { ($0 - dMean[c]) * gain + fMean[c] }
        }
        let blur = Int((shadingBlur * Double(size)).rounded(.toNearestOrEven))
        if blur > 0 {
            let lit = boxBlur((0..<n).map { alpha[$0] * f[0][$0] }, size: size, radius: blur)
            let own = boxBlur((0..<n).map { alpha[$0] * matched[0][$0] }, size: size, radius: blur)
            for i in 0..<n { matched[0][i] *= min(limitHigh, max(limitLow, lit[i] / max(own[i], 1e-3))) }
        }
        var out = RGBImage(width: size, height: size)
        for i in 0..<n {
            let y = matched[0][i], cb = matched[1][i] - 128, cr = matched[2][i] - 128
            let rgb: [Float] = [y + 1.402 * cr, y + -0.344136 * cb + -0.714136 * cr, y + 1.772 * cb]
            let a = alpha[i]
            for c in 0..<3 {
                let v = a * rgb[c] + (1 - a) * Float(face.pixels[i * 3 + c])
                out.pixels[i * 3 + c] = UInt8(min(255, max(0, Double(v).rounded(.toNearestOrEven))))
            }
        }
        return out
    }
}
