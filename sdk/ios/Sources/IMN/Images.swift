/// An 8-bit RGB image, rows top to bottom, `(H, W, 3)` interleaved like the Python SDK's arrays.
public struct RGBImage: Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]? = nil) {
        precondition(width > 0 && height > 0, "an image needs a positive size")
        self.width = width
        self.height = height
        self.pixels = pixels ?? [UInt8](repeating: 0, count: width * height * 3)
        precondition(self.pixels.count == width * height * 3, "expected \(width * height * 3) bytes")
    }

    /// Channel `c` of pixel (x, y), 0...255.
    @inline(__always) public func at(_ x: Int, _ y: Int, _ c: Int) -> Int { Int(pixels[(y * width + x) * 3 + c]) }

    /// The `w`×`h` block whose top-left corner is (x0, y0).
    public func crop(x0: Int, y0: Int, w: Int, h: Int) -> RGBImage {
        precondition(x0 >= 0 && y0 >= 0 && x0 + w <= width && y0 + h <= height, "crop outside the image")
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let from = ((y0 + y) * width + x0) * 3
            out.replaceSubrange(y * w * 3..<(y + 1) * w * 3, with: pixels[from..<from + w * 3])
        }
        return RGBImage(width: w, height: h, pixels: out)
    }

    /// Writes `block` over this image with its top-left corner at (x0, y0).
    public mutating func paste(_ block: RGBImage, x0: Int, y0: Int) {
        precondition(x0 >= 0 && y0 >= 0 && x0 + block.width <= width && y0 + block.height <= height, "paste outside the image")
        for y in 0..<block.height {
            let to = ((y0 + y) * width + x0) * 3
            pixels.replaceSubrange(to..<to + block.width * 3, with: block.pixels[y * block.width * 3..<(y + 1) * block.width * 3])
        }
    }
}

/// A float32 tensor in row-major order, as the bundle's graphs take and give them.
public struct Tensor {
    public let shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) values")
        self.shape = shape
        self.data = data
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *))) }

    /// `[1, 3, H, W]` in [0, 1] from an 8-bit image.
    public static func from(image: RGBImage) -> Tensor {
        let plane = image.width * image.height
        var data = [Float](repeating: 0, count: 3 * plane)
        for i in 0..<plane { for c in 0..<3 { data[c * plane + i] = Float(image.pixels[i * 3 + c]) / 255 } }
        return Tensor(shape: [1, 3, image.height, image.width], data: data)
    }

    /// The 8-bit image of a `[1, 3, H, W]` tensor: round half to even and clip, as the Python
    /// SDK's `from_nchw` (the 8-bit rounding a PNG stores).
    public func toImage() -> RGBImage {
        precondition(shape.count == 4 && shape[0] == 1 && shape[1] == 3, "expected [1, 3, H, W], got \(shape)")
        let h = shape[2], w = shape[3], plane = w * h
        var out = [UInt8](repeating: 0, count: 3 * plane)
        for i in 0..<plane {
            for c in 0..<3 {
                let v = Double(data[c * plane + i] * 255).rounded(.toNearestOrEven)
                out[i * 3 + c] = UInt8(min(255, max(0, v)))
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}
