import CryptoKit
import Foundation

/// A keyed photo's `key` entry: never the key, only its salt and check value.
public struct KeyRecord {
    public let kind: String; public let salt: String; public let check: String; public let piece: Int
    /// "cover" or "face": what the key scrambled (photo.md §7)
    public let scrambles: String
}

/// A validated `imn` record; `json` is the whole object as read.
public struct Record {
    public let width: Int, height: Int
    public let bundle: [String: Any]
    public let tile: Int
    public let regions: [Box]
    public let faces: [[[Double]]]   // each face's five [x, y] landmarks
    public let digest: String
    public let key: KeyRecord?
    public let json: [String: Any]
    /// The protected photo's own mode: "L" (grayscale) or "RGB" (absent from the record).
    public let mode: String
}

/// The `imn` PNG chunk (photo.md §5): the reader accepts exactly the Python SDK's schema.
public enum Metadata {
    public static let chunkKey = "imn"
    public static let formatVersion = 1
    static let maxChunkChars = 1 << 20

    /// sha256 over each region's `"x,y,width,height;"` and its `(h, w, 3)` masked bytes.
    public static func pixelDigest(_ rgb: RGBImage, _ regions: [Box]) -> String {
        var hash = SHA256()
        for r in regions {
            hash.update(data: Data("\(r.x0),\(r.y0),\(r.width),\(r.height);".utf8))
            hash.update(data: Data(rgb.crop(x0: r.x0, y0: r.y0, w: r.width, h: r.height).pixels))
        }
        return "sha256:" + hash.finalize().map { String(format: "%02x", $0) }.joined()
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
        guard (try? int(record["format"], "format")) == formatVersion else {
            throw IMNError.invalidMetadata("imn metadata format \(String(describing: record["format"])); this SDK reads format \(formatVersion)")
        }
        guard let size = record["size"] as? [Any], size.count == 2 else { throw fail("size must be [width, height]") }
        let width = try int(size[0], "size", low: 1), height = try int(size[1], "size", low: 1)
        guard let bundle = record["bundle"] as? [String: Any],
              ["checkpoint_sha256", "target", "precision"].allSatisfy({ bundle[$0] is String }) else {
            throw fail("bundle must name checkpoint_sha256, target, precision")
        }
        let tile = try int(bundle["tile"], "bundle.tile", low: 2)
        guard let regionList = record["regions"] as? [Any], (1...4096).contains(regionList.count) else {
            throw fail("regions must be a non-empty list")
        }
        let regions: [Box] = try regionList.map { e in
            guard let r = e as? [String: Any] else { throw fail("each region must be an object") }
            let x = try int(r["x"], "region.x"), y = try int(r["y"], "region.y")
            let w = try int(r["width"], "region.width", low: tile), h = try int(r["height"], "region.height", low: tile)
            if w % tile != 0 || h % tile != 0 || x + w > width || y + h > height { throw fail("region \(r) is not whole tiles inside the image") }
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
        let keyedValue = record["keyed"] ?? NSNumber(value: false)
        guard let keyedNumber = keyedValue as? NSNumber, CFGetTypeID(keyedNumber) == CFBooleanGetTypeID() else {
            throw fail("keyed must be true or false")
        }
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
        return Record(width: width, height: height, bundle: bundle, tile: tile, regions: regions, faces: faces, digest: digest,
                      key: key, json: record, mode: mode)
    }
}
