import Foundation

/// An upright 8-bit photo: `rgb`, its `alpha` when it had one, PNG text chunks, conversions made.
/// `mode`: "L" when the source was grayscale (`rgb` has three equal channels), else "RGB".
/// `chunks`: the PNG's private chunks by type (a sealed photo's encrypted originals, `imSd`).
public struct Photo {
    public let rgb: RGBImage
    public let alpha: [UInt8]?
    public let notes: [String]
    public let text: [String: String]
    public let format: String
    public let mode: String
    public let chunks: [String: [UInt8]]

    public init(rgb: RGBImage, alpha: [UInt8]? = nil, notes: [String] = [], text: [String: String] = [:], format: String = "",
                mode: String = "RGB", chunks: [String: [UInt8]] = [:]) {
        self.rgb = rgb; self.alpha = alpha; self.notes = notes; self.text = text; self.format = format; self.mode = mode
        self.chunks = chunks
    }
}

/// Pixel decoding and PNG encoding, which each platform does with its own codecs
/// (`ImageIOCodec` here, BitmapFactory on Android). Text chunks are the SDK's job.
public protocol PhotoCodec {
    /// Upright 8-bit RGB (+ alpha), the format's name, and `mode` "L" where the codec can tell the
    /// image is grayscale (PNG and JPEG headers are read by `PhotoIO.read` itself); throws
    /// `.invalidImage` for undecodable, truncated, 16-bit or float images.
    func decode(_ bytes: [UInt8]) throws -> Photo
    func encodePNG(_ rgb: RGBImage, alpha: [UInt8]?) throws -> [UInt8]
}

public enum PhotoIO {
    public static let maxPixels = 100_000_000

    /// Decodes `bytes` and keeps the PNG text chunks (where the `imn` record lives) and private
    /// chunks (a sealed photo's `imSd`; one of each type, else `.invalidImage`). Grayscale
    /// photos (a gray PNG or JPEG, or what the codec reports as gray) get `mode` "L": masked in
    /// gray, recovered as grayscale. A PNG of more than 8 bits per sample, gray or colour, is
    /// refused from its header before decoding (platform decoders may hand it over as 8-bit).
    public static func read(_ bytes: [UInt8], codec: PhotoCodec) throws -> Photo {
        let header = PNG.isPNG(bytes) ? try PNG.header(bytes) : nil
        if let h = header, h.width * h.height > maxPixels {
            throw IMNError.imageTooLarge("\(h.width)x\(h.height) is \(h.width * h.height / 1_000_000) MP; " +
                                         "IMN protects photos up to \(maxPixels / 1_000_000) MP")
        }
        if let h = header, h.bitDepth > 8 {
            throw IMNError.invalidImage("16-bit and float images (a \(h.bitDepth)-bit PNG) are not supported: IMN writes 8-bit PNG " +
                                        "and would lose their low bits; convert the photo to 8-bit first")
        }
        let decoded = try codec.decode(bytes)
        if decoded.rgb.width * decoded.rgb.height > maxPixels {
            throw IMNError.imageTooLarge("\(decoded.rgb.width)x\(decoded.rgb.height) is more than \(maxPixels / 1_000_000) MP")
        }
        let text = header != nil ? try PNG.textChunks(bytes) : [:]
        let chunks = header != nil ? try PNG.privateChunks(bytes) : [:]
        let grayHeader = try header.map { $0.gray } ?? (sourceMode(bytes) == "L")  // the header read once
        let mode = decoded.mode == "L" || grayHeader ? "L" : "RGB"
        let notes = mode == "L" ? decoded.notes + ["grayscale photo: its Mask is gray and it is recovered as grayscale"] : decoded.notes
        return Photo(rgb: decoded.rgb, alpha: decoded.alpha, notes: notes, text: text, format: decoded.format, mode: mode, chunks: chunks)
    }

    /// "L" for a grayscale PNG (colour type 0 or 4, any bit depth) or a one-component JPEG, as
    /// Pillow opens them ("1", "L", "LA"); "RGB" for anything else, read from the header alone.
    public static func sourceMode(_ bytes: [UInt8]) throws -> String {
        if PNG.isPNG(bytes) { return try PNG.header(bytes).gray ? "L" : "RGB" }
        return jpegComponents(bytes) == 1 ? "L" : "RGB"
    }

    /// The component count of a JPEG's frame header (SOF0...SOF15 but DHT, JPG, DAC); nil when
    /// `bytes` is no JPEG or has none before its scan.
    static func jpegComponents(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        var at = 2
        while at + 4 <= bytes.count {
            guard bytes[at] == 0xFF else { return nil }
            let marker = bytes[at + 1]
            if marker == 0xFF {
                at += 1  // fill byte
            } else if marker == 0x01 || (0xD0...0xD7).contains(marker) {
                at += 2  // no length
            } else if marker == 0xD9 || marker == 0xDA {
                return nil  // end of image, or the scan before any frame header
            } else if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                return at + 10 <= bytes.count ? Int(bytes[at + 9]) : nil
            } else {
                at += 2 + (Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]))
            }
        }
        return nil
    }

    /// `H·W` luma of an 8-bit RGB image, exactly as Pillow's `convert("L")` (ITU-R 601-2 in
    /// 16-bit fixed point): three equal channels give back their value.
    public static func toGray(_ rgb: RGBImage) -> [UInt8] {
        (0..<(rgb.width * rgb.height)).map { i in
            let r = UInt32(rgb.pixels[3 * i]), g = UInt32(rgb.pixels[3 * i + 1]), b = UInt32(rgb.pixels[3 * i + 2])
            return UInt8((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16)
        }
    }

    /// An 8-bit PNG with `text` as compressed iTXt chunks and `chunks` (private chunk type → data)
    /// after them, before the pixels, written atomically; never over an existing file unless
    /// `overwrite`. `mode` "L" writes grayscale (`toGray`; the SDK's own encoder), for a recovered
    /// grayscale photo.
    @discardableResult
    public static func writePNG(_ url: URL, _ rgb: RGBImage, alpha: [UInt8]?, text: [String: String], codec: PhotoCodec,
                                overwrite: Bool = false, mode: String = "RGB", chunks: [String: [UInt8]] = [:]) throws -> URL {
        guard url.pathExtension.lowercased() == "png" else {
            throw IMNError.invalidImage("\(url.path): masked photos are written as PNG only (JPEG would destroy the hidden face)")
        }
        if FileManager.default.fileExists(atPath: url.path) && !overwrite {
            throw IMNError.outputExists("\(url.path) exists; pass overwrite: true to replace it")
        }
        var png = mode == "L" ? try PNG.encodeGray(toGray(rgb), alpha: alpha, width: rgb.width, height: rgb.height)
                              : try codec.encodePNG(rgb, alpha: alpha)
        for (key, value) in text.sorted(by: { $0.key < $1.key }) { png = try PNG.withText(png, keyword: key, text: value) }
        for (type, data) in chunks.sorted(by: { $0.key < $1.key }) { png = try PNG.withChunk(png, type: type, data: data) }
        try Data(png).write(to: url, options: .atomic)  // temporary file in the same folder, then rename
        return url
    }
}
