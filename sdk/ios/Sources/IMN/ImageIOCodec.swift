import CoreGraphics
import Foundation
import ImageIO
import UniformTypeIdentifiers

/// ImageIO as the SDK's PhotoCodec: 8-bit RGB(A) read straight from the decoded bitmap (no
/// colour conversion, alpha unpremultiplied as stored), upright per EXIF; PNG written from the
/// exact bytes. 16-bit and float images are refused. Grayscale images come as three equal
/// channels with `mode` "L" (Pillow's "L" → "RGB").
public struct ImageIOCodec: PhotoCodec {
    public init() {}

    public func decode(_ bytes: [UInt8]) throws -> Photo {
        guard let source = CGImageSourceCreateWithData(Data(bytes) as CFData, nil), CGImageSourceGetCount(source) > 0,
              let image = CGImageSourceCreateImageAtIndex(source, 0, nil) else {
            throw IMNError.invalidImage("not an image IMN can read (PNG, JPEG, HEIF, …), or the file is damaged")
        }
        if image.bitsPerComponent > 8 {
            throw IMNError.invalidImage("16-bit and float images are not supported: IMN writes 8-bit PNG and would lose their low bits; " +
                                        "convert the photo to 8-bit first")
        }
        let w = image.width, h = image.height
        var notes: [String] = []
        // Draw into a known layout in the image's own colour space (no conversion). Opaque
        // images come through exactly; with alpha, Core Graphics premultiplies, so the original
        // bytes are read from the data provider when the layout allows.
        let alphaInfo = image.alphaInfo
        let hasAlpha = ![.none, .noneSkipFirst, .noneSkipLast].contains(alphaInfo)
        var rgba = [UInt8](repeating: 0, count: w * h * 4)
        let gray = image.colorSpace?.model == .monochrome
        if gray, image.bitsPerComponent == 8, (!hasAlpha && image.bitsPerPixel == 8) || (alphaInfo == .last && image.bitsPerPixel == 16),
           let data = image.dataProvider?.data as Data? {
            // Gray samples as stored, in three equal channels: drawing would colour-convert them.
            let row = image.bytesPerRow, step = image.bitsPerPixel / 8
            for y in 0..<h {
                for x in 0..<w {
                    let g = data[y * row + x * step], i = (y * w + x) * 4
                    rgba[i] = g; rgba[i + 1] = g; rgba[i + 2] = g
                    rgba[i + 3] = hasAlpha ? data[y * row + x * step + 1] : 255
                }
            }
        } else if hasAlpha, image.bitsPerPixel == 32, alphaInfo == .last,
           image.bitmapInfo.rawValue & CGBitmapInfo.byteOrderMask.rawValue == 0,
           let data = image.dataProvider?.data as Data? {
            let row = image.bytesPerRow
            for y in 0..<h { for x in 0..<w { for c in 0..<4 { rgba[(y * w + x) * 4 + c] = data[y * row + x * 4 + c] } } }
        } else {
            guard let space = image.colorSpace, space.model == .rgb || space.model == .monochrome,
                  let context = CGContext(data: &rgba, width: w, height: h, bitsPerComponent: 8, bytesPerRow: w * 4,
                                          space: space.model == .rgb ? space : CGColorSpaceCreateDeviceRGB(),
                                          bitmapInfo: CGImageAlphaInfo.premultipliedLast.rawValue) else {
                throw IMNError.invalidImage("a colour model IMN cannot keep (\(image.colorSpace?.model.rawValue ?? -1))")
            }
            context.draw(image, in: CGRect(x: 0, y: 0, width: w, height: h))
            if hasAlpha { notes.append("alpha premultiplied by the decoder: colours under transparent pixels are approximate") }
        }
        var rgb = RGBImage(width: w, height: h)
        var alpha: [UInt8]? = hasAlpha ? [UInt8](repeating: 0, count: w * h) : nil
        for i in 0..<(w * h) {
            for c in 0..<3 { rgb.pixels[i * 3 + c] = rgba[i * 4 + c] }
            alpha?[i] = rgba[i * 4 + 3]
        }
        if hasAlpha { notes.append("alpha channel kept as is") }
        let properties = CGImageSourceCopyPropertiesAtIndex(source, 0, nil) as? [CFString: Any]
        let orientation = (properties?[kCGImagePropertyOrientation] as? NSNumber)?.intValue ?? 1
        let (upright, uprightAlpha) = Orientation.apply(rgb, alpha: alpha, orientation: orientation)
        if orientation != 1 { notes.append("rotated upright from EXIF orientation \(orientation)") }
        let type = CGImageSourceGetType(source).map { $0 as String } ?? ""
        let format = type == UTType.png.identifier ? "PNG" : type == UTType.jpeg.identifier ? "JPEG" : type
        return Photo(rgb: upright, alpha: uprightAlpha, notes: notes, format: format, mode: gray ? "L" : "RGB")
    }

    public func encodePNG(_ rgb: RGBImage, alpha: [UInt8]?) throws -> [UInt8] {
        let channels = alpha == nil ? 3 : 4
        var bytes = [UInt8](repeating: 0, count: rgb.width * rgb.height * channels)
        for i in 0..<(rgb.width * rgb.height) {
            for c in 0..<3 { bytes[i * channels + c] = rgb.pixels[i * 3 + c] }
            if let a = alpha { bytes[i * 4 + 3] = a[i] }
        }
        guard let provider = CGDataProvider(data: Data(bytes) as CFData),
              let image = CGImage(width: rgb.width, height: rgb.height, bitsPerComponent: 8, bitsPerPixel: 8 * channels,
                                  bytesPerRow: rgb.width * channels, space: CGColorSpace(name: CGColorSpace.sRGB)!,
                                  bitmapInfo: CGBitmapInfo(rawValue: (alpha == nil ? CGImageAlphaInfo.none : CGImageAlphaInfo.last).rawValue),
                                  provider: provider, decode: nil, shouldInterpolate: false, intent: .defaultIntent) else {
            throw IMNError.invalidImage("could not build the PNG image")
        }
        let out = NSMutableData()
        guard let destination = CGImageDestinationCreateWithData(out, UTType.png.identifier as CFString, 1, nil) else {
            throw IMNError.invalidImage("ImageIO cannot write PNG here")
        }
        CGImageDestinationAddImage(destination, image, nil)
        guard CGImageDestinationFinalize(destination) else { throw IMNError.invalidImage("ImageIO failed to write the PNG") }
        return [UInt8](out as Data)
    }
}
