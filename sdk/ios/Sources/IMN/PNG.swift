import Compression
import Foundation
import zlib

/// PNG text chunks at the byte level: ImageIO cannot write an iTXt chunk, so the SDK inserts
/// the `imn` chunk into the encoder's bytes (PNG spec §11.3.4), as the Kotlin SDK does. Likewise
/// private chunks (a sealed photo's `imSd`, photo.md §7), the IHDR header (bit depth and colour
/// type) and grayscale PNGs.
public enum PNG {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 13, 10, 26, 10]
    static let maxTextBytes = 1 << 20
    /// All text chunks together, as Pillow's MAX_TEXT_MEMORY: a few KB of zlib can claim far more.
    static let maxTextTotal = 64 << 20

    public static func isPNG(_ bytes: [UInt8]) -> Bool { bytes.count >= 8 && Array(bytes[0..<8]) == signature }

    /// A chunk at `start` of a PNG; its data is `bytes[body]`, copied only when asked for (IDAT
    /// is most of a file).
    struct Chunk { let type: String; let start: Int; let body: Range<Int> }

    /// A PNG's IHDR: size, bits per sample, colour type (0 gray, 2 RGB, 3 palette, 4 gray +
    /// alpha, 6 RGBA).
    public struct Header {
        public let width: Int, height: Int, bitDepth: Int, colourType: Int
        public var gray: Bool { colourType == 0 || colourType == 4 }
    }

    /// The IHDR chunk, which the PNG spec puts first.
    public static func header(_ bytes: [UInt8]) throws -> Header {
        guard isPNG(bytes) else { throw IMNError.invalidImage("not a PNG file") }
        guard bytes.count >= 8 + 8 + 13, be32(bytes, 8) == 13, Array(bytes[12..<16]) == Array("IHDR".utf8) else {
            throw IMNError.invalidImage("the file is damaged or truncated (no PNG header)")
        }
        return Header(width: Int(be32(bytes, 16)), height: Int(be32(bytes, 20)), bitDepth: Int(bytes[24]), colourType: Int(bytes[25]))
    }

    static func be32Bytes(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        var out = be32Bytes(UInt32(data.count)) + Array(type.utf8) + data
        out += be32Bytes(crc(out[4...]))
        return out
    }

    /// An 8-bit grayscale PNG (gray + alpha with `alpha`) of `width`×`height` `luma` bytes, no
    /// filter, zlib-compressed.
    public static func encodeGray(_ luma: [UInt8], alpha: [UInt8]?, width: Int, height: Int) throws -> [UInt8] {
        guard luma.count == width * height, alpha == nil || alpha!.count == luma.count else {
            throw IMNError.invalidImage("expected \(width)x\(height) samples")
        }
        let channels = alpha == nil ? 1 : 2
        var raw = [UInt8](repeating: 0, count: height * (1 + width * channels))  // filter type 0, then the samples
        for y in 0..<height {
            let row = y * (1 + width * channels) + 1
            for x in 0..<width {
                raw[row + x * channels] = luma[y * width + x]
                if let a = alpha { raw[row + x * 2 + 1] = a[y * width + x] }
            }
        }
        let colourType: UInt8 = alpha == nil ? 0 : 4
        let ihdr = be32Bytes(UInt32(width)) + be32Bytes(UInt32(height)) + [8, colourType, 0, 0, 0]
        return signature + chunk("IHDR", ihdr) + chunk("IDAT", deflate(raw)) + chunk("IEND", [])
    }

    static func crc(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(zlib.crc32(0, $0.baseAddress, uInt($0.count))) }
    }

    static func be32(_ b: [UInt8], _ at: Int) -> UInt32 {
        (UInt32(b[at]) << 24) | (UInt32(b[at + 1]) << 16) | (UInt32(b[at + 2]) << 8) | UInt32(b[at + 3])
    }

    static func chunks(_ bytes: [UInt8]) throws -> [Chunk] {
        guard isPNG(bytes) else { throw IMNError.invalidImage("not a PNG file") }
        var out: [Chunk] = [], at = 8
        while at + 12 <= bytes.count {
            let length = Int(be32(bytes, at))
            guard length >= 0, at + 12 + length <= bytes.count else { throw IMNError.invalidImage("the PNG is truncated") }
            let type = String(decoding: bytes[at + 4..<at + 8], as: Unicode.ASCII.self)
            guard crc(bytes[at + 4..<at + 8 + length]) == be32(bytes, at + 8 + length) else {
                throw IMNError.invalidImage("the PNG is damaged (bad \(type) checksum)")
            }
            out.append(Chunk(type: type, start: at, body: at + 8..<at + 8 + length))
            at += 12 + length
            if type == "IEND" { break }
        }
        return out
    }

    /// zlib stream → bytes, refusing more than 1 MB.
    static func inflate(_ data: [UInt8]) throws -> [UInt8] {
        guard data.count > 6 else { throw IMNError.invalidMetadata("imn metadata: damaged compressed text") }
        let raw = Array(data[2..<data.count - 4])  // zlib header and Adler-32 around raw DEFLATE
        var out = [UInt8](repeating: 0, count: maxTextBytes + 1)
        let n = compression_decode_buffer(&out, out.count, raw, raw.count, nil, COMPRESSION_ZLIB)
        if n > maxTextBytes { throw IMNError.invalidMetadata("imn metadata: not text, or larger than 1 MB") }
        if n == 0 && !raw.isEmpty { throw IMNError.invalidMetadata("imn metadata: damaged compressed text") }
        return Array(out[0..<n])
    }

    static func deflate(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: data.count + data.count / 64 + 1024)  // room for stored blocks
        let n = compression_encode_buffer(&out, out.count, data, data.count, nil, COMPRESSION_ZLIB)
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        let adler = (b << 16) | a
        return [0x78, 0x9C] + Array(out[0..<n]) + [UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF), UInt8(adler & 0xFF)]
    }

    /// The tEXt, zTXt and iTXt chunks, keyword → text (first of each keyword wins).
    public static func textChunks(_ bytes: [UInt8]) throws -> [String: String] {
        var out: [String: String] = [:]
        var total = 0
        for chunk in try chunks(bytes) where ["tEXt", "zTXt", "iTXt"].contains(chunk.type) {
            let d = Array(bytes[chunk.body])
            guard let nul = d.firstIndex(of: 0), nul > 0 else { continue }
            let key = String(decoding: d[0..<nul], as: Unicode.ASCII.self)
            var text: String?
            do {
                switch chunk.type {
                case "tEXt": text = String(bytes: d[(nul + 1)...], encoding: .isoLatin1)
                case "zTXt": text = String(bytes: try inflate(Array(d[(nul + 2)...])), encoding: .isoLatin1)
                default:
                    let compressed = d[nul + 1] == 1
                    guard let language = d[(nul + 3)...].firstIndex(of: 0),
                          let translated = d[(language + 1)...].firstIndex(of: 0) else { continue }
                    let body = Array(d[(translated + 1)...])
                    text = String(bytes: compressed ? try inflate(body) : body, encoding: .utf8)
                }
            } catch let error as IMNError {
                if case .invalidMetadata = error { throw error }
                continue
            }
            if let text = text {
                total += text.utf8.count
                if total > maxTextTotal {
                    throw IMNError.invalidImage("the file is damaged, or its metadata is larger than an image's may be (text chunks over \(maxTextTotal >> 20) MB in all)")
                }
                // Pillow keeps the last, this reader the first: refuse, so no two SDKs read two photos.
                if key == Metadata.chunkKey && out[key] != nil { throw IMNError.invalidImage("the file has two imn metadata chunks") }
                if out[key] == nil { out[key] = text }
            }
        }
        return out
    }

    /// A PNG's private chunks (the second letter of the type lower case, as Pillow collects them),
    /// type → data, wherever they are; a type twice is refused (which would be the real one?).
    /// IMN's own private chunks: twice, which would be the real one? Other apps' may repeat.
    public static let uniqueChunks: Set<String> = ["imSd"]

    public static func privateChunks(_ bytes: [UInt8]) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for chunk in try chunks(bytes) where chunk.type.utf8.count == 4 && (0x61...0x7A).contains(Array(chunk.type.utf8)[1]) {
            if out[chunk.type] != nil && uniqueChunks.contains(chunk.type) {
                throw IMNError.invalidImage("the file has two \(chunk.type) chunks")
            }
            out[chunk.type] = Array(bytes[chunk.body])
        }
        return out
    }

    /// `png` with a compressed iTXt chunk `keyword: text` inserted before its first IDAT.
    public static func withText(_ png: [UInt8], keyword: String, text: String) throws -> [UInt8] {
        try withChunk(png, type: "iTXt", data: Array(keyword.utf8) + [0, 1, 0, 0, 0] + deflate(Array(text.utf8)))
    }

    /// `png` with the chunk `type: data` inserted before its first IDAT, so after any chunk
    /// inserted before it (a sealed photo's `imSd` follows its `imn` text, photo.md §7).
    public static func withChunk(_ png: [UInt8], type: String, data: [UInt8]) throws -> [UInt8] {
        precondition(type.utf8.count == 4 && type.allSatisfy({ $0.isASCII && $0.isLetter }), "a chunk type is four letters, not \(type)")
        guard let idat = try chunks(png).first(where: { $0.type == "IDAT" }) else { throw IMNError.invalidImage("the PNG has no image data") }
        return Array(png[0..<idat.start]) + chunk(type, data) + Array(png[idat.start...])
    }
}
