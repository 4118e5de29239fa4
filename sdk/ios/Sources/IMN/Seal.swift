import Compression
import CryptoKit
import Foundation

/// Argon2id's cost: memory in KiB, passes and lanes (photo.md §7.1).
public struct Argon2Params: Equatable {
    public let memoryKib: Int, iterations: Int, lanes: Int

    public init(memoryKib: Int, iterations: Int, lanes: Int) { self.memoryKib = memoryKib; self.iterations = iterations; self.lanes = lanes }
}

/// A sealed photo's `sealed` entry (photo.md §7.3): how to derive its keys and open its `imSd`
/// chunk, never the key. `argon2` is nil for a key (HKDF only); `bytes` is the chunk's length.
public struct SealedEntry {
    public let kind: String
    public let argon2: Argon2Params?
    public let salt: String, nonce: String, check: String
    public let step: Int
    public let bytes: Int

    /// The entry as a JSON object (written with sorted keys, the Python SDK's layout).
    public var json: [String: Any] {
        let kdf: Any = argon2.map { a -> Any in
            ["argon2id": ["memory_kib": a.memoryKib, "iterations": a.iterations, "lanes": a.lanes], "then": Seal.kdf] as [String: Any]
        } ?? Seal.kdf
        return ["cipher": Seal.cipher, "kind": kind, "kdf": kdf, "salt": salt, "nonce": nonce, "check": check,
                "pixels": Seal.pixelCoding, "step": step, "bytes": bytes]
    }
}

/// Sealed recovery (photo.md §7; sdk/python/imn_sdk/seal.py, the Kotlin SDK's Seal.kt): the
/// original pixels of each hidden region, compressed without loss and encrypted with
/// AES-256-GCM, in a PNG chunk of their own (`imSd`). The masked pixels are the Mask and nothing
/// else: no network hides the face in them, so no attack on the pixels, the public reveal graph
/// included, gets closer to the person than the Mask itself.
///
/// Everything secret comes from standard primitives: the per-photo key is HKDF-SHA256 (CryptoKit)
/// over the user's 256-bit key, or over Argon2id (libsodium's `crypto_pwhash`, 64 MiB, 3 passes)
/// of a passphrase, with a random 16-byte salt; the AEAD (CryptoKit's AES.GCM) binds the photo's
/// whole clear record (the `imn` chunk's text) as associated data, so a changed record or
/// ciphertext is refused before any plaintext is used. The faces travel inside the ciphertext.
///
/// Pixels are coded as PNG coders do: per channel the plane predictor `left + up − up_left` (zero
/// outside the region), the residual mod 256, the residuals of all regions in order as one raw
/// DEFLATE stream (`COMPRESSION_ZLIB` is raw DEFLATE, what Python's zlib writes with wbits −15).
/// Lossy `step` s > 1 stores `(x + s / 2) / s` and recovers `min(255, v · s)`: with s = 3 every
/// pixel is within one level of the original (≥ 48.1 dB).
public enum Seal {
    public static let chunkType = "imSd"   // ancillary, private, safe to copy: travels with the imn chunk
    public static let cipher = "aes-256-gcm"
    public static let pixelCoding = "plane-deflate"
    public static let kdf = "hkdf-sha256"
    public static let kdfInfo = "imn seal v1"
    /// Argon2id for passphrases: 64 MiB, 3 passes, one lane (libsodium computes one lane only).
    public static let argon2id = Argon2Params(memoryKib: 65536, iterations: 3, lanes: 1)
    public static let saltBytes = 16, nonceBytes = 12, tagBytes = 16
    /// `sealQuality` → step: "compact" keeps every pixel within one level (≥ 48.1 dB).
    public static let steps = ["lossless": 1, "compact": 3]
    public static let minPassphraseChars = 12, minPassphraseDistinct = 6, minPassphraseBits = 50.0

    /// The AES key and the check value (32 hex digits) that tells a wrong key from a damaged
    /// photo; it costs a guesser nothing the GCM tag would not also tell them.
    public struct SealKeys { public let aeadKey: [UInt8]; public let check: String }

    // MARK: passphrases

    /// NFC, as characters (Unicode scalars: Python's `len` counts these, not grapheme clusters).
    static func scalars(_ text: String) -> [Unicode.Scalar] { Array(text.precomposedStringWithCanonicalMapping.unicodeScalars) }

    /// NFC then UTF-8: the same passphrase typed on any keyboard gives the same bytes.
    public static func normalizePassphrase(_ passphrase: String) -> [UInt8] { Array(passphrase.precomposedStringWithCanonicalMapping.utf8) }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { (0x30...0x39).contains(c.value) }
    static func isLower(_ c: Unicode.Scalar) -> Bool { (0x61...0x7A).contains(c.value) }
    static func isUpper(_ c: Unicode.Scalar) -> Bool { (0x41...0x5A).contains(c.value) }

    /// A plain strength estimate: length (characters after NFC) × log2 of the character pool its
    /// classes span (ASCII digits 10, lower 26, upper 26, anything else 33). It overrates phrases
    /// of dictionary words, which is why the length floor comes first.
    public static func passphraseBits(_ passphrase: String) -> Double {
        let chars = scalars(passphrase)
        var pool = 0
        if chars.contains(where: isDigit) { pool += 10 }
        if chars.contains(where: isLower) { pool += 26 }
        if chars.contains(where: isUpper) { pool += 26 }
        if chars.contains(where: { !isDigit($0) && !isLower($0) && !isUpper($0) }) { pool += 33 }
        return pool == 0 ? 0 : Double(chars.count) * log2(Double(pool))
    }

    /// `.weakPassphrase` unless at least 12 characters, 6 different ones and 50 estimated bits.
    public static func checkPassphrase(_ passphrase: String) throws {
        let chars = scalars(passphrase)
        if chars.count < minPassphraseChars {
            throw IMNError.weakPassphrase("a passphrase needs at least \(minPassphraseChars) characters (this one has \(chars.count)); " +
                                          "a few unrelated words are best")
        }
        if Set(chars).count < minPassphraseDistinct {
            throw IMNError.weakPassphrase("a passphrase needs at least \(minPassphraseDistinct) different characters")
        }
        let bits = passphraseBits(passphrase)
        if bits < minPassphraseBits {
            throw IMNError.weakPassphrase("this passphrase is too easy to guess (about \(Int(bits.rounded(.toNearestOrEven))) bits; " +
                                          "at least \(Int(minPassphraseBits))): make it longer, or mix letters, digits and symbols")
        }
    }

    // MARK: keys

    /// The key, or Argon2id (version 0x13) of the normalised passphrase with the record's
    /// parameters (`argon2` is nil for a key).
    public static func keyMaterial(_ secret: Keys.Secret, salt: [UInt8], argon2: Argon2Params?) throws -> [UInt8] {
        switch secret {
        case .key(let key): return key
        case .passphrase(let text):
            guard let a = argon2 else { throw IMNError.invalidMetadata("imn metadata: a sealed passphrase photo needs its argon2id parameters") }
            return try Argon2.derive(normalizePassphrase(text), salt: salt, params: a, length: Keys.keyBytes)
        }
    }

    /// HKDF-SHA256(material, salt, "imn seal v1") → 48 bytes: the AES key, then the check value.
    public static func deriveKeys(_ material: [UInt8], salt: [UInt8]) -> SealKeys {
        let okm = HKDF<CryptoKit.SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: material), salt: Data(salt),
                                                   info: Data(kdfInfo.utf8), outputByteCount: Keys.keyBytes + 16)
        let bytes = okm.withUnsafeBytes { Array($0) }
        return SealKeys(aeadKey: Array(bytes[0..<Keys.keyBytes]), check: Keys.hex(Array(bytes[Keys.keyBytes...])))
    }

    /// The Argon2id parameters a new photo records for this secret; nil for a key (HKDF only).
    public static func kdfEntry(_ secret: Keys.Secret) -> Argon2Params? {
        if case .key = secret { return nil }
        return argon2id
    }

    // MARK: pixels

    /// Residuals `x − left − up + up_left` mod 256 per channel (zero outside the image).
    public static func planeResiduals(_ pixels: RGBImage) -> RGBImage {
        let p = pixels.pixels, row = pixels.width * 3
        var out = [UInt8](repeating: 0, count: p.count)
        for y in 0..<pixels.height {
            for x in 0..<row {
                let i = y * row + x
                let left: UInt8 = x >= 3 ? p[i - 3] : 0, up: UInt8 = y > 0 ? p[i - row] : 0
                let upLeft: UInt8 = x >= 3 && y > 0 ? p[i - row - 3] : 0
                out[i] = p[i] &- left &- up &+ upLeft
            }
        }
        return RGBImage(width: pixels.width, height: pixels.height, pixels: out)
    }

    /// The inverse of `planeResiduals`: running sums mod 256 down the columns, then along rows.
    public static func planePixels(_ residuals: RGBImage) -> RGBImage {
        var p = residuals.pixels
        let row = residuals.width * 3
        if p.count > row { for i in row..<p.count { p[i] = p[i] &+ p[i - row] } }
        for y in 0..<residuals.height where row > 3 {
            for i in (y * row + 3)..<((y + 1) * row) { p[i] = p[i] &+ p[i - 3] }
        }
        return RGBImage(width: residuals.width, height: residuals.height, pixels: p)
    }

    public static func quantize(_ pixels: RGBImage, step: Int) -> RGBImage {
        if step == 1 { return pixels }
        return RGBImage(width: pixels.width, height: pixels.height, pixels: pixels.pixels.map { UInt8((Int($0) + step / 2) / step) })
    }

    public static func dequantize(_ values: RGBImage, step: Int) -> RGBImage {
        if step == 1 { return values }
        return RGBImage(width: values.width, height: values.height, pixels: values.pixels.map { UInt8(min(Int($0) * step, 255)) })
    }

    /// The plaintext: `u32be(len(J)) ‖ J ‖ raw DEFLATE of every region's residuals`, with `J` the
    /// UTF-8 JSON of `inner` (what the photo keeps out of the clear).
    public static func pack(_ rgb: RGBImage, regions: [Box], inner: [String: Any], step: Int) throws -> [UInt8] {
        let header = [UInt8](try JSONSerialization.data(withJSONObject: inner, options: [.sortedKeys]))
        let residuals = regions.map { r in planeResiduals(quantize(rgb.crop(x0: r.x0, y0: r.y0, w: r.width, h: r.height), step: step)).pixels }
        return PNG.be32Bytes(UInt32(header.count)) + header + (try deflate(residuals))
    }

    /// `(inner, one image per region)` from `pack`'s bytes; `.imageModified` when they do not
    /// hold exactly the regions' pixels (only reachable with the key: the tag was right). An
    /// `inner` that is not a JSON object reads as an empty one, as the Python SDK's recover reads it.
    public static func unpack(_ plaintext: [UInt8], regions: [Box], step: Int) throws -> ([String: Any], [RGBImage]) {
        let damaged = IMNError.imageModified("the sealed pixels do not match the photo's regions")
        guard plaintext.count >= 4 else { throw damaged }
        let length = Int(PNG.be32(plaintext, 0))
        guard length <= plaintext.count - 4 else { throw damaged }
        guard let inner = try? JSONSerialization.jsonObject(with: Data(plaintext[4..<4 + length]), options: [.fragmentsAllowed]) else {
            throw damaged
        }
        let sizes = regions.map { 3 * $0.width * $0.height }
        let raw = try inflate(Array(plaintext[(4 + length)...]), exactly: sizes.reduce(0, +), or: damaged)
        var at = 0
        let pixels: [RGBImage] = zip(regions, sizes).map { r, n in
            defer { at += n }
            return dequantize(planePixels(RGBImage(width: r.width, height: r.height, pixels: Array(raw[at..<at + n]))), step: step)
        }
        return (inner as? [String: Any] ?? [:], pixels)
    }

    /// One raw DEFLATE stream (`COMPRESSION_ZLIB`) over `parts` in order.
    static func deflate(_ parts: [[UInt8]]) throws -> [UInt8] {
        let failed = IMNError.invalidImage("the sealed pixels could not be compressed")
        let stream = UnsafeMutablePointer<compression_stream>.allocate(capacity: 1)
        defer { stream.deallocate() }
        guard compression_stream_init(stream, COMPRESSION_STREAM_ENCODE, COMPRESSION_ZLIB) == COMPRESSION_STATUS_OK else { throw failed }
        defer { compression_stream_destroy(stream) }
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        for (k, part) in parts.enumerated() {
            let last = k == parts.count - 1
            let flags = last ? Int32(COMPRESSION_STREAM_FINALIZE.rawValue) : 0
            try part.withUnsafeBufferPointer { source in
                stream.pointee.src_ptr = source.baseAddress!
                stream.pointee.src_size = source.count
                while true {
                    let status = buffer.withUnsafeMutableBufferPointer { target -> compression_status in
                        stream.pointee.dst_ptr = target.baseAddress!
                        stream.pointee.dst_size = target.count
                        let status = compression_stream_process(stream, flags)
                        out.append(contentsOf: target[0..<(target.count - stream.pointee.dst_size)])
                        return status
                    }
                    if status == COMPRESSION_STATUS_ERROR { throw failed }
                    // The last part runs until the stream's end is written; the others until read.
                    if last && status == COMPRESSION_STATUS_END { break }
                    if !last && stream.pointee.src_size == 0 { break }
                }
            }
        }
        return out
    }

    /// Inflates one raw DEFLATE stream that must give exactly `count` bytes and end with `data`;
    /// `damaged` for anything else (fewer or more bytes, a broken or truncated stream, bytes after it).
    static func inflate(_ data: [UInt8], exactly count: Int, or damaged: IMNError) throws -> [UInt8] {
        guard !data.isEmpty, count > 0 else { throw damaged }
        let stream = UnsafeMutablePointer<compression_stream>.allocate(capacity: 1)
        defer { stream.deallocate() }
        guard compression_stream_init(stream, COMPRESSION_STREAM_DECODE, COMPRESSION_ZLIB) == COMPRESSION_STATUS_OK else { throw damaged }
        defer { compression_stream_destroy(stream) }
        var out = [UInt8](repeating: 0, count: count + 1)  // one byte more: room to see too many pixels
        let status = data.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target -> compression_status in
                stream.pointee.src_ptr = source.baseAddress!
                stream.pointee.src_size = source.count
                stream.pointee.dst_ptr = target.baseAddress!
                stream.pointee.dst_size = target.count
                var status: compression_status
                repeat {
                    status = compression_stream_process(stream, Int32(COMPRESSION_STREAM_FINALIZE.rawValue))
                } while status == COMPRESSION_STATUS_OK && stream.pointee.dst_size > 0 && stream.pointee.src_size > 0
                return status
            }
        }
        let written = out.count - stream.pointee.dst_size
        guard status == COMPRESSION_STATUS_END, written == count, stream.pointee.src_size == 0 else { throw damaged }
        out.removeLast()
        return out
    }

    // MARK: the record's entry and the chunk

    /// The record's `sealed` entry for a new photo (fresh salt and nonce) whose ciphertext will
    /// have `bytes` bytes, and its keys. A passphrase must pass `checkPassphrase`.
    public static func newEntry(_ secret: Keys.Secret, step: Int, bytes: Int) throws -> (SealedEntry, SealKeys) {
        if case .passphrase(let text) = secret { try checkPassphrase(text) }
        let salt = Keys.randomBytes(saltBytes), nonce = Keys.randomBytes(nonceBytes)
        let argon2 = kdfEntry(secret)
        let keys = deriveKeys(try keyMaterial(secret, salt: salt, argon2: argon2), salt: salt)
        return (SealedEntry(kind: secret.kind, argon2: argon2, salt: Keys.hex(salt), nonce: Keys.hex(nonce), check: keys.check,
                            step: step, bytes: bytes), keys)
    }

    /// AES-256-GCM of `plaintext` (ciphertext then the 16-byte tag) with the `imn` chunk's exact
    /// text as associated data.
    public static func encrypt(_ keys: SealKeys, _ entry: SealedEntry, _ plaintext: [UInt8], recordText: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: SymmetricKey(data: keys.aeadKey), nonce: AES.GCM.Nonce(data: Keys.unhex(entry.nonce) ?? []),
                                   authenticating: Data(recordText.utf8))
        return Array(box.ciphertext) + Array(box.tag)
    }

    /// The photo's keys from the user's secret; `.wrongKey` (nothing decrypted) when the check
    /// value disagrees, `.keyRequired` without a secret.
    public static func openKeys(_ entry: SealedEntry, _ secret: Keys.Secret?) throws -> SealKeys {
        guard let secret = secret else {
            throw IMNError.keyRequired("this photo is sealed: pass its key file or passphrase to recover it")
        }
        if entry.kind != secret.kind { throw IMNError.wrongKey("this photo was sealed with a \(entry.kind), not a \(secret.kind)") }
        let salt = Keys.unhex(entry.salt) ?? []
        let keys = deriveKeys(try keyMaterial(secret, salt: salt, argon2: entry.argon2), salt: salt)
        // Constant-time comparison of the check values.
        let a = Array(keys.check.utf8), b = Array(entry.check.utf8)
        guard a.count == b.count, zip(a, b).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else {
            throw IMNError.wrongKey("wrong key: it does not open this photo (nothing was written)")
        }
        return keys
    }

    /// The plaintext, or `.imageModified` when the ciphertext or the record was altered (GCM's tag
    /// is checked before any plaintext is returned).
    public static func decrypt(_ keys: SealKeys, _ entry: SealedEntry, _ ciphertext: [UInt8], recordText: String) throws -> [UInt8] {
        let altered = IMNError.imageModified("the sealed data or the photo's record was altered after protection: nothing was recovered")
        guard ciphertext.count >= tagBytes else { throw altered }
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: Keys.unhex(entry.nonce) ?? []),
                                            ciphertext: ciphertext[0..<(ciphertext.count - tagBytes)],
                                            tag: ciphertext[(ciphertext.count - tagBytes)...])
            return Array(try AES.GCM.open(box, using: SymmetricKey(data: keys.aeadKey), authenticating: Data(recordText.utf8)))
        } catch {
            throw altered
        }
    }

    /// The exact text a record is stored as: compact JSON, keys sorted (what the ciphertext is
    /// bound to; for ASCII records it is the Python SDK's `dump_record`).
    public static func text(_ record: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }
}
