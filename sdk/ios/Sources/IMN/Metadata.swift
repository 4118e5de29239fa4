import CryptoKit
import Foundation

/// A keyed photo's `key` entry (photo.md §8): never the key, only its salt and check value.
public struct KeyRecord {
    public let kind: String; public let salt: String; public let check: String; public let piece: Int
    /// "cover" or "face": what the key scrambled (photo.md §8)
    public let scrambles: String
}

/// A validated `imn` record; `json` is the whole object as read. A sealed photo (`format` 2) has
/// `sealed` and no `bundle` (its `tile` is 1: regions are any rectangles); a keyed photo of an
/// earlier release has `key`.
public struct Record {
    public let width: Int, height: Int
    public let bundle: [String: Any]?
    public let tile: Int
    /// Half the overlap of neighbouring tiles (format 3; 0 before): photo.md §4.
    public let margin: Int
    public let regions: [Box]
    public let faces: [[[Double]]]   // each face's five [x, y] landmarks
    public let digest: String
    public let key: KeyRecord?
    public let json: [String: Any]
    /// The protected photo's own mode: "L" (grayscale) or "RGB" (absent from the record).
    public let mode: String
    public let format: Int
    public let sealed: SealedEntry?

    public var isSealed: Bool { sealed != nil }
}

/// The `imn` PNG chunk (photo.md §5; sealed photos §7.3): the reader accepts exactly the Python
/// SDK's schema.
public enum Metadata {
    public static let chunkKey = "imn"
    public static let formatVersion = 1         // keyless and keyed photos of earlier releases: tiles edge to edge
    public static let sealedFormatVersion = 2   // sealed photos: readers of format 1 must not run the network on them
    public static let keylessFormatVersion = 3  // keyless photos: tiles overlap by 2 * margin (a format-1 reader
                                                // would reveal them on the wrong grid, so it must refuse them)
    public static let formats = [formatVersion, sealedFormatVersion, keylessFormatVersion]
    static let maxChunkChars = 1 << 20
    // Bounds on what a sealed record may ask of the recipient's device (a crafted photo could
    // otherwise demand gigabytes per guess): Argon2id up to 256 MiB (four times what protect
    // writes, and what a phone can spare) and 10 passes.
    static let argon2MemoryKib = 8192...(1 << 18), argon2Iterations = 1...10, argon2Lanes = 1...8

    /// sha256 over each region's `"x,y,width,height;"` and its `(h, w, 3)` masked bytes.
    public static func pixelDigest(_ rgb: RGBImage, _ regions: [Box]) -> String {
        var hash = SHA256()
        for r in regions {
            hash.update(data: Data("\(r.x0),\(r.y0),\(r.width),\(r.height);".utf8))
            hash.update(data: Data(rgb.crop(x0: r.x0, y0: r.y0, w: r.width, h: r.height).pixels))
        }
        return "sha256:" + hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// A sealed photo's digest (format 2): sha256 over `"rgb;"` and every RGB byte, then, with an
    /// alpha channel, `"alpha;"` and its bytes. The whole image: recover promises the original
    /// photo bit for bit, and the record holding this digest is authenticated.
    public static func photoDigest(_ rgb: RGBImage, alpha: [UInt8]?) -> String {
        var hash = SHA256()
        hash.update(data: Data("rgb;".utf8))
        hash.update(data: Data(rgb.pixels))
        if let alpha = alpha {
            hash.update(data: Data("alpha;".utf8))
            hash.update(data: Data(alpha))
        }
        return "sha256:" + hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// `[{"x", "y", "width", "height"}]` of the regions.
    public static func regionRecords(_ regions: [Box]) -> [[String: Int]] {
        regions.map { ["x": $0.x0, "y": $0.y0, "width": $0.width, "height": $0.height] }
    }

    /// A keyless photo's record (photo.md §5, format 3).
    public static func keylessRecord(width: Int, height: Int, bundle: [String: Any], margin: Int, regions: [Box],
                                     faces: [[String: Any]], masks: String, digest: String, mode: String) -> [String: Any] {
        var record: [String: Any] = [
            "format": keylessFormatVersion, "size": [width, height], "bundle": bundle, "margin": margin,
            "regions": regionRecords(regions), "faces": faces, "masks": masks, "digest": digest]
        if mode == "L" { record["mode"] = "L" }  // recover gives it back as grayscale (absent: RGB)
        return record
    }

    /// A sealed photo's record (photo.md §7.3), written with sorted keys (`Pipeline`'s
    /// `recordText`), as the Python SDK's `dump_record` writes it.
    public static func sealedRecord(width: Int, height: Int, regions: [Box], digest: String, entry: SealedEntry, mode: String) -> [String: Any] {
        var record: [String: Any] = [
            "format": sealedFormatVersion, "size": [width, height], "digest": digest, "sealed": entry.json,
            "regions": regionRecords(regions)]
        if mode == "L" { record["mode"] = "L" }  // recover gives it back as grayscale (absent: RGB)
        return record
    }

    static func fail(_ message: String) -> IMNError { .invalidMetadata("imn metadata: \(message)") }

    /// An integer (not a bool, not a float) in [low, high].
    static func int(_ value: Any?, _ name: String, low: Int = 0, high: Int = 1 << 20) throws -> Int {
        guard let n = value as? NSNumber, CFGetTypeID(n) != CFBooleanGetTypeID(),
              ["q", "i", "l", "s"].contains(String(cString: n.objCType)), n.intValue >= low, n.intValue <= high else {
            throw fail("\(name) must be an integer in [\(low), \(high)], got \(String(describing: value))")
        }
        return n.intValue
    }

    static func hex(_ value: Any?, _ digits: Int, _ name: String) throws -> String {
        guard let v = value as? String, v.count == digits, v.allSatisfy({ "0123456789abcdef".contains($0) }) else {
            throw fail("sealed.\(name) must be \(digits) lowercase hex digits")
        }
        return v
    }

    /// photo.md §7.3: exactly the entry protect writes, within bounds a device can afford.
    static func sealedEntry(_ value: Any?, regionArea: Int) throws -> SealedEntry {
        guard let entry = value as? [String: Any] else { throw fail("a format-2 photo needs a sealed entry") }
        guard entry["cipher"] as? String == Seal.cipher, entry["pixels"] as? String == Seal.pixelCoding else {
            throw fail("sealed photos use aes-256-gcm over plane-deflate pixels")
        }
        let kind = entry["kind"] as? String
        var argon2: Argon2Params?
        switch kind {
        case "key"?:
            guard entry["kdf"] as? String == Seal.kdf else { throw fail("a sealed key photo derives with hkdf-sha256") }
        case "passphrase"?:
            guard let kdf = entry["kdf"] as? [String: Any], let params = kdf["argon2id"] as? [String: Any],
                  kdf["then"] as? String == Seal.kdf, Set(kdf.keys) == ["argon2id", "then"] else {
                throw fail("a sealed passphrase photo derives with argon2id then hkdf-sha256")
            }
            argon2 = Argon2Params(
                memoryKib: try int(params["memory_kib"], "sealed.kdf.argon2id.memory_kib", low: argon2MemoryKib.lowerBound, high: argon2MemoryKib.upperBound),
                iterations: try int(params["iterations"], "sealed.kdf.argon2id.iterations", low: argon2Iterations.lowerBound, high: argon2Iterations.upperBound),
                lanes: try int(params["lanes"], "sealed.kdf.argon2id.lanes", low: argon2Lanes.lowerBound, high: argon2Lanes.upperBound))
        default:
            throw fail("sealed.kind must be key or passphrase")
        }
        let salt = try hex(entry["salt"], 32, "salt"), nonce = try hex(entry["nonce"], 24, "nonce"), check = try hex(entry["check"], 32, "check")
        let step = try int(entry["step"], "sealed.step", low: 1, high: 16)
        // DEFLATE never grows data by more than 5 bytes per 16 KB block, plus a 1 MB header allowance.
        let bytes = try int(entry["bytes"], "sealed.bytes", low: 16, high: 3 * regionArea * 1001 / 1000 + (1 << 20))
        return SealedEntry(kind: kind!, argon2: argon2, salt: salt, nonce: nonce, check: check, step: step, bytes: bytes)
    }

    /// Five valid landmarks of each face record that has them (a sealed photo's faces come from its
    /// plaintext, which the tag vouches for; recover only reports them).
    static func faceLandmarks(_ faces: [Any]) -> [[[Double]]] { faces.compactMap { landmarks(($0 as? [String: Any])?["landmarks"]) } }

    /// Five [x, y] pairs of finite numbers within ±2^20, not all one point; nil otherwise.
    static func landmarks(_ value: Any?) -> [[Double]]? {
        guard let points = value as? [Any], points.count == 5 else { return nil }
        var out: [[Double]] = []
        for p in points {
            guard let pair = p as? [Any], pair.count == 2 else { return nil }
            var xy: [Double] = []
            for v in pair {
                guard let n = v as? NSNumber, CFGetTypeID(n) != CFBooleanGetTypeID(), abs(n.doubleValue) <= Double(1 << 20) else { return nil }
                xy.append(n.doubleValue)
            }
            out.append(xy)
        }
        let xs = out.map { $0[0] }, ys = out.map { $0[1] }
        return xs.max()! - xs.min()! + ys.max()! - ys.min()! >= 1 ? out : nil
    }

    /// The validated record from a PNG's text chunks; `.notProtected` when there is none.
    public static func parseRecord(_ text: [String: String]) throws -> Record {
        guard let raw = text[chunkKey] else {
            throw IMNError.notProtected("no IMN metadata in this image: it was not protected by IMN, or an app stripped the " +
                                        "metadata when saving it (nothing can be recovered)")
        }
        if raw.count > maxChunkChars { throw fail("not text, or larger than 1 MB") }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(raw.utf8)) else {
            throw IMNError.invalidMetadata("imn metadata is not valid JSON")
        }
        guard let record = parsed as? [String: Any] else { throw fail("expected a JSON object") }
        guard let version = try? int(record["format"], "format"), formats.contains(version) else {
            throw IMNError.invalidMetadata("imn metadata format \(String(describing: record["format"])); this SDK reads formats " +
                                           formats.map(String.init).joined(separator: ", "))
        }
        let sealed = version == sealedFormatVersion
        guard let size = record["size"] as? [Any], size.count == 2 else { throw fail("size must be [width, height]") }
        let width = try int(size[0], "size", low: 1), height = try int(size[1], "size", low: 1)
        // A sealed photo names no bundle (none is needed to open it): its regions are any pixels.
        var bundle: [String: Any]?
        var tile = 1
        if !sealed {
            guard let named = record["bundle"] as? [String: Any],
                  ["checkpoint_sha256", "target", "precision"].allSatisfy({ named[$0] is String }) else {
                throw fail("bundle must name checkpoint_sha256, target, precision")
            }
            bundle = named
            tile = try int(named["tile"], "bundle.tile", low: 2)
        }
        var margin = 0
        if version == keylessFormatVersion {
            // At most a quarter tile, so a crafted record cannot ask for millions of tiles.
            margin = try int(record["margin"], "margin", low: 0, high: tile / 4)
            if margin % 2 != 0 { throw fail("margin must be even, got \(margin)") }
        } else if record["margin"] != nil {
            throw fail("a margin needs format \(keylessFormatVersion)")
        }
        guard let regionList = record["regions"] as? [Any], (1...4096).contains(regionList.count) else {
            throw fail("regions must be a non-empty list")
        }
        let regions: [Box] = try regionList.map { e in
            guard let r = e as? [String: Any] else { throw fail("each region must be an object") }
            let x = try int(r["x"], "region.x"), y = try int(r["y"], "region.y")
            let w = try int(r["width"], "region.width", low: tile), h = try int(r["height"], "region.height", low: tile)
            if !Tiles.fits(w, tile: tile, margin: margin) || !Tiles.fits(h, tile: tile, margin: margin) || x + w > width || y + h > height {
                throw fail("region \(r) is not whole tiles inside the image")
            }
            return Box(x, y, x + w, y + h)
        }
        // Protect writes regions that never overlap, so they cover at most the photo: anything
        // else is crafted and would make recover reveal the same pixels again and again.
        if regions.reduce(0, { $0 + $1.width * $1.height }) > width * height { throw fail("the regions cover more than the photo") }
        for i in regions.indices { for j in regions.indices where j > i && regions[i].overlaps(regions[j]) { throw fail("regions overlap") } }
        let faceList = record["faces"] ?? [Any]()
        guard let faceArray = faceList as? [Any], faceArray.count <= 4096 else { throw fail("faces must be a list") }
        let faces: [[[Double]]] = try faceArray.map { f in
            guard let marks = landmarks((f as? [String: Any])?["landmarks"]) else { throw fail("each face needs five distinct [x, y] landmarks") }
            return marks
        }
        guard let digest = record["digest"] as? String, digest.hasPrefix("sha256:"), digest.count == 71 else {
            throw fail("digest must be 'sha256:' + 64 hex digits")
        }
        guard let mode = record["mode"] == nil ? "RGB" : record["mode"] as? String, ["RGB", "L"].contains(mode) else {
            throw fail("mode must be RGB or L")
        }
        if sealed {
            if ["bundle", "keyed", "key", "faces"].contains(where: { record[$0] != nil }) {
                throw fail("a sealed record keeps no bundle, no key scramble and no faces in the clear")
            }
            let entry = try sealedEntry(record["sealed"], regionArea: regions.reduce(0) { $0 + $1.width * $1.height })
            return Record(width: width, height: height, bundle: nil, tile: tile, margin: 0, regions: regions, faces: faces, digest: digest,
                          key: nil, json: record, mode: mode, format: version, sealed: entry)
        }
        if record["sealed"] != nil { throw fail("a sealed entry needs format \(sealedFormatVersion)") }
        let keyedValue = record["keyed"] ?? NSNumber(value: false)
        guard let keyedNumber = keyedValue as? NSNumber, CFGetTypeID(keyedNumber) == CFBooleanGetTypeID() else {
            throw fail("keyed must be true or false")
        }
        if keyedNumber.boolValue && version != formatVersion { throw fail("keyed photos are format \(formatVersion) (earlier releases)") }
        var key: KeyRecord?
        if keyedNumber.boolValue {
            guard let k = record["key"] as? [String: Any], let kind = k["kind"] as? String, ["key", "passphrase"].contains(kind) else {
                throw fail("a keyed photo needs a key entry of kind key or passphrase")
            }
            let hex = try ["salt", "check"].map { name -> String in
                guard let v = k[name] as? String, v.count == 32, v.allSatisfy({ "0123456789abcdef".contains($0) }) else {
                    throw fail("key.\(name) must be 32 lowercase hex digits")
                }
                return v
            }
            let piece = try int(k["piece"], "key.piece", low: 2)
            if tile % piece != 0 { throw fail("key.piece \(piece) does not divide the tile \(tile)") }
            let scrambles = k["scrambles"] == nil ? "face" : k["scrambles"] as? String
            guard let scrambled = scrambles, Keys.scrambles.contains(scrambled) else { throw fail("key.scrambles must be cover or face") }
            key = KeyRecord(kind: kind, salt: hex[0], check: hex[1], piece: piece, scrambles: scrambled)
        }
        return Record(width: width, height: height, bundle: bundle, tile: tile, margin: margin, regions: regions, faces: faces, digest: digest,
                      key: key, json: record, mode: mode, format: version, sealed: nil)
    }
}
