import Foundation

/// An upright 8-bit photo: `rgb`, its `alpha` when it had one, PNG text chunks, conversions made.
public struct Photo {
    public let rgb: RGBImage
    public let alpha: [UInt8]?
    public let notes: [String]
    public let text: [String: String]
    public let format: String

    public init(rgb: RGBImage, alpha: [UInt8]? = nil, notes: [String] = [], text: [String: String] = [:], format: String = "") {
        self.rgb = rgb; self.alpha = alpha; self.notes = notes; self.text = text; self.format = format
    }
}

/// Pixel decoding and PNG encoding, which each platform does with its own codecs
/// (`ImageIOCodec` here, BitmapFactory on Android). Text chunks are the SDK's job.
public protocol PhotoCodec {
    func decode(_ bytes: [UInt8]) throws -> Photo
    func encodePNG(_ rgb: RGBImage, alpha: [UInt8]?) throws -> [UInt8]
}

public enum PhotoIO {
    public static let maxPixels = 100_000_000

    public static func read(_ bytes: [UInt8], codec: PhotoCodec) throws -> Photo {
        let decoded = try codec.decode(bytes)
        if decoded.rgb.width * decoded.rgb.height > maxPixels {
            throw IMNError.imageTooLarge("\(decoded.rgb.width)x\(decoded.rgb.height) is more than \(maxPixels / 1_000_000) MP")
        }
        let text = PNG.isPNG(bytes) ? try PNG.textChunks(bytes) : [:]
        return Photo(rgb: decoded.rgb, alpha: decoded.alpha, notes: decoded.notes, text: text, format: decoded.format)
    }

    /// An 8-bit PNG with `text` as compressed iTXt chunks, written atomically; never over an
    /// existing file unless `overwrite`.
    @discardableResult
    public static func writePNG(_ url: URL, _ rgb: RGBImage, alpha: [UInt8]?, text: [String: String], codec: PhotoCodec,
                                overwrite: Bool = false) throws -> URL {
        guard url.pathExtension.lowercased() == "png" else {
            throw IMNError.invalidImage("\(url.path): masked photos are written as PNG only (JPEG would destroy the hidden face)")
        }
        if FileManager.default.fileExists(atPath: url.path) && !overwrite {
            throw IMNError.outputExists("\(url.path) exists; pass overwrite: true to replace it")
        }
        var png = try codec.encodePNG(rgb, alpha: alpha)
        for (key, value) in text.sorted(by: { $0.key < $1.key }) { png = try PNG.withText(png, keyword: key, text: value) }
        try Data(png).write(to: url, options: .atomic)  // temporary file in the same folder, then rename
        return url
    }
}
