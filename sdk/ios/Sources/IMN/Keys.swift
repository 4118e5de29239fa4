import CryptoKit
import CryptoSwift
import Foundation

/// The user's secret and key files, for sealed photos (photo.md §7: `Seal` derives their keys) and
/// for the keyed photos of earlier releases, which every SDK still recovers but none writes any
/// more (§8). In those, each tile of the cover (the Mask-blended photo; the face itself in photos
/// of the first keyed release) was cut into pieces, permuted and turned by key-derived values
/// around hiding: obfuscation, since an attacker with the bundle and the photo can undo it
/// (README, "Threat model"). Secrets come from standard primitives only: SecRandomCopyBytes,
/// scrypt (CryptoSwift), HKDF-SHA256 and HMAC-SHA256 (CryptoKit).
public enum Keys {
    public static let piece = 32
    public static let keyBytes = 32
    public static let keyFilePrefix = "imn-key-v1:"
    /// What the key scrambles; records without the entry scrambled the face.
    public static let scrambles = ["cover", "face"]

    public static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        precondition(SecRandomCopyBytes(kSecRandomDefault, count, &bytes) == errSecSuccess, "no system randomness")
        return bytes
    }

    public static func generateKey() -> [UInt8] { randomBytes(keyBytes) }

    public static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    public static func unhex(_ text: String) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = [], chars = Array(text)
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let b = UInt8(String(chars[i...i + 1]), radix: 16) else { return nil }
            out.append(b)
        }
        return out
    }

    public static func readKeyFile(_ url: URL) throws -> [UInt8] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw IMNError.keyRequired("\(url.path): no such key file (make one with imn keygen)")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(keyFilePrefix) else {
            throw IMNError.keyRequired("\(url.path) is not an IMN key file (it should start with \(keyFilePrefix))")
        }
        guard let key = unhex(String(trimmed.dropFirst(keyFilePrefix.count))) else {
            throw IMNError.keyRequired("\(url.path): the key is not hexadecimal")
        }
        guard key.count == keyBytes else { throw IMNError.keyRequired("\(url.path): a key has \(keyBytes) bytes, this one \(key.count)") }
        return key
    }

    /// What the user holds: a 256-bit key, or a passphrase, stretched per photo (Argon2id for a
    /// sealed photo, `Seal.keyMaterial`; scrypt for a keyed photo of an earlier release).
    public enum Secret {
        case key([UInt8])
        case passphrase(String)

        public var kind: String { if case .key = self { return "key" } else { return "passphrase" } }

        /// A keyed photo's per-photo key (§8): HKDF-SHA256 over the key (or the scrypt-stretched
        /// passphrase).
        public func photoKey(salt: [UInt8]) throws -> [UInt8] {
            let material: [UInt8]
            switch self {
            case .key(let key): material = key
            case .passphrase(let text):
                material = try Scrypt(password: Array(text.utf8), salt: salt, dkLen: keyBytes, N: 1 << 15, r: 8, p: 1).calculate()
            }
            let derived = HKDF<CryptoKit.SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: material), salt: Data(salt),
                                                           info: Data("imn photo key v1".utf8), outputByteCount: keyBytes)
            return derived.withUnsafeBytes { Array($0) }
        }
    }

    public static func checkValue(_ photoKey: [UInt8]) -> String {
        let mac = CryptoKit.HMAC<CryptoKit.SHA256>.authenticationCode(for: Data("imn key check v1".utf8), using: SymmetricKey(data: photoKey))
        return String(hex(Array(mac)).prefix(32))
    }

    /// Output piece i is input piece `order[i]`, turned by `turns[i]`.
    public struct Scramble { public let order: [Int]; public let turns: [Int] }

    /// (order, turns) from `9·count` key-derived bytes: the stable argsort of one big-endian
    /// uint64 per piece, then one byte mod 8 per piece.
    public static func scrambleFromBytes(_ material: [UInt8], count: Int) -> Scramble {
        precondition(material.count >= 9 * count, "need \(9 * count) bytes of key material")
        let values: [UInt64] = (0..<count).map { i in (0..<8).reduce(UInt64(0)) { ($0 << 8) | UInt64(material[8 * i + $1]) } }
        let order = (0..<count).sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
        return Scramble(order: order, turns: (0..<count).map { Int(material[8 * count + $0]) % 8 })
    }

    public static func tileScramble(photoKey: [UInt8], region: Int, x: Int, y: Int, count: Int) -> Scramble {
        let material = HKDF<CryptoKit.SHA256>.expand(pseudoRandomKey: SymmetricKey(data: photoKey),
                                                     info: Data("imn tile v1 \(region) \(x) \(y)".utf8), outputByteCount: 9 * count)
        return scrambleFromBytes(material.withUnsafeBytes { Array($0) }, count: count)
    }

    // Source index inside a piece of side n for output (i, j): k counter-clockwise quarter turns
    // (NumPy's rot90) and, when mirrored, a left-right flip applied last.
    static func source(_ i: Int, _ j: Int, _ n: Int, _ k: Int, _ mirrored: Bool) -> Int {
        var r = i, c = mirrored ? n - 1 - j : j
        for _ in 0..<k { (r, c) = (c, n - 1 - r) }
        return r * n + c
    }

    static func inverseSource(_ i: Int, _ j: Int, _ n: Int, _ k: Int, _ mirrored: Bool) -> Int {
        var r = i, c = j
        for _ in 0..<k { (r, c) = (n - 1 - c, r) }
        if mirrored { c = n - 1 - c }
        return r * n + c
    }

    static func movePieces(_ image: RGBImage, _ s: Scramble, piece: Int, forward: Bool) -> RGBImage {
        let across = image.width / piece
        precondition(image.width % piece == 0 && image.height % piece == 0 && across * (image.height / piece) == s.order.count)
        var out = RGBImage(width: image.width, height: image.height)
        for p in s.order.indices {
            let turn = s.turns[p]
            let from = forward ? s.order[p] : p, to = forward ? p : s.order[p]
            let fx = (from % across) * piece, fy = (from / across) * piece, tx = (to % across) * piece, ty = (to / across) * piece
            for i in 0..<piece {
                for j in 0..<piece {
                    let src = forward ? source(i, j, piece, turn % 4, turn >= 4) : inverseSource(i, j, piece, turn % 4, turn >= 4)
                    let si = ((fy + src / piece) * image.width + fx + src % piece) * 3
                    let di = ((ty + i) * image.width + tx + j) * 3
                    out.pixels[di] = image.pixels[si]; out.pixels[di + 1] = image.pixels[si + 1]; out.pixels[di + 2] = image.pixels[si + 2]
                }
            }
        }
        return out
    }

    public static func scramble(_ tile: RGBImage, _ s: Scramble, piece: Int = piece) -> RGBImage { movePieces(tile, s, piece: piece, forward: true) }
    public static func unscramble(_ tile: RGBImage, _ s: Scramble, piece: Int = piece) -> RGBImage { movePieces(tile, s, piece: piece, forward: false) }

    /// The recovered tile at photo position (x, y) of region `region` of a keyed photo (§8): the
    /// key's scramble goes around the network where protect put it, on the masked tile before
    /// `reveal` ("cover") or on the revealed face after it ("face").
    public static func keyedReveal(_ reveal: (RGBImage) throws -> RGBImage, _ tile: RGBImage, photoKey: [UInt8],
                                   scrambles: String, region: Int, x: Int, y: Int) rethrows -> RGBImage {
        let s = tileScramble(photoKey: photoKey, region: region, x: x, y: y, count: (tile.width / piece) * (tile.width / piece))
        return scrambles == "cover" ? try reveal(scramble(tile, s)) : unscramble(try reveal(tile), s)
    }

    /// The photo key for a keyed photo's record (§8); `.wrongKey` when the HMAC disagrees.
    public static func openKeyRecord(_ record: KeyRecord, _ secret: Secret?) throws -> [UInt8] {
        guard let secret = secret else {
            throw IMNError.keyRequired("this photo was protected with a key: pass its key file or passphrase to recover it")
        }
        if record.kind != secret.kind { throw IMNError.wrongKey("this photo was protected with a \(record.kind), not a \(secret.kind)") }
        let photoKey = try secret.photoKey(salt: unhex(record.salt) ?? [])
        // Constant-time comparison of the check values.
        let a = Array(checkValue(photoKey).utf8), b = Array(record.check.utf8)
        guard a.count == b.count, zip(a, b).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else {
            throw IMNError.wrongKey("wrong key: it does not open this photo (nothing was written)")
        }
        return photoKey
    }
}
