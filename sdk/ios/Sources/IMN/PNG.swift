import Compression
import Foundation
import zlib

/// PNG text chunks at the byte level: ImageIO cannot write an iTXt chunk, so the SDK inserts
/// the `imn` chunk into the encoder's bytes (PNG spec §11.3.4), as the Kotlin SDK does.
public enum PNG {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 13, 10, 26, 10]
    static let maxTextBytes = 1 << 20

    public static func isPNG(_ bytes: [UInt8]) -> Bool { bytes.count >= 8 && Array(bytes[0..<8]) == signature }

    struct Chunk { let type: String; let start: Int; let data: [UInt8] }

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
            out.append(Chunk(type: type, start: at, data: Array(bytes[at + 8..<at + 8 + length])))
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
        var out = [UInt8](repeating: 0, count: data.count + 1024)
        let n = compression_encode_buffer(&out, out.count, data, data.count, nil, COMPRESSION_ZLIB)
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        let adler = (b << 16) | a
        return [0x78, 0x9C] + Array(out[0..<n]) + [UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF), UInt8(adler & 0xFF)]
    }

    /// The tEXt, zTXt and iTXt chunks, keyword → text (first of each keyword wins).
    public static func textChunks(_ bytes: [UInt8]) throws -> [String: String] {
        var out: [String: String] = [:]
        for chunk in try chunks(bytes) where ["tEXt", "zTXt", "iTXt"].contains(chunk.type) {
            let d = chunk.data
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
            if let text = text, out[key] == nil { out[key] = text }
        }
        return out
    }

    /// `png` with a compressed iTXt chunk `keyword: text` inserted before its first IDAT.
    public static func withText(_ png: [UInt8], keyword: String, text: String) throws -> [UInt8] {
        guard let idat = try chunks(png).first(where: { $0.type == "IDAT" }) else { throw IMNError.invalidImage("the PNG has no image data") }
        let data = Array(keyword.utf8) + [0, 1, 0, 0, 0] + deflate(Array(text.utf8))
        let length = UInt32(data.count)
        var chunk: [UInt8] = [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)]
        chunk += Array("iTXt".utf8) + data
        let c = crc(chunk[4...])
        chunk += [UInt8(c >> 24), UInt8((c >> 16) & 0xFF), UInt8((c >> 8) & 0xFF), UInt8(c & 0xFF)]
        return Array(png[0..<idat.start]) + chunk + Array(png[idat.start...])
    }
}
