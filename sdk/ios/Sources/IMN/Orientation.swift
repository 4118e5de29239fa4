/// EXIF orientations 1–8 applied to pixels, so photos are processed and written upright (what
/// Pillow's `ImageOps.exif_transpose` does for the Python SDK).
public enum Orientation {
    public static func apply(_ rgb: RGBImage, alpha: [UInt8]?, orientation: Int) -> (RGBImage, [UInt8]?) {
        guard (2...8).contains(orientation) else { return (rgb, alpha) }
        let w = rgb.width, h = rgb.height, swap = orientation >= 5
        let ow = swap ? h : w, oh = swap ? w : h
        var out = RGBImage(width: ow, height: oh)
        var outAlpha = alpha.map { [UInt8](repeating: 0, count: $0.count) }
        for y in 0..<oh {
            for x in 0..<ow {
                let (sx, sy): (Int, Int)
                switch orientation {
                case 2: (sx, sy) = (w - 1 - x, y)
                case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                case 4: (sx, sy) = (x, h - 1 - y)
                case 5: (sx, sy) = (y, x)
                case 6: (sx, sy) = (y, h - 1 - x)
                case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                default: (sx, sy) = (w - 1 - y, x)
                }
                for c in 0..<3 { out.pixels[(y * ow + x) * 3 + c] = rgb.pixels[(sy * w + sx) * 3 + c] }
                if let a = alpha { outAlpha![y * ow + x] = a[sy * w + sx] }
            }
        }
        return (out, outAlpha)
    }
}
