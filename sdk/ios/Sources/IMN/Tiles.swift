import Foundation

/// A box `(x0, y0, x1, y1)` in whole pixels, x1 and y1 exclusive.
public struct Box: Equatable {
    public let x0: Int, y0: Int, x1: Int, y1: Int
    public var width: Int { x1 - x0 }
    public var height: Int { y1 - y0 }

    public init(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) { self.x0 = x0; self.y0 = y0; self.x1 = x1; self.y1 = y1 }

    func overlaps(_ o: Box) -> Bool { x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1 }
    func contains(_ x: Double, _ y: Double) -> Bool { Double(x0) <= x && x < Double(x1) && Double(y0) <= y && y < Double(y1) }
}

/// Hidden regions: tiles of the hiding graph's size over each face, merged when they overlap
/// (photo.md §4; sdk/python/imn_sdk/tiles.py). Neighbouring tiles of a keyless photo overlap by
/// `2 * margin` pixels and each keeps only its core: the network reveals a tile's outermost pixels
/// worse than its interior, and tiles laid edge to edge left faint lines in recovered faces (issue #16).
public enum Tiles {
    public static let margin = 16  // keyless photos (format 3); 0 for sealed regions and photos of format 1

    /// A tile at `(x, y)` and the part of it written back, `core` (absolute, exclusive).
    public struct Tile: Equatable {
        public let x: Int, y: Int, core: Box
    }

    static func pitch(_ tile: Int, _ margin: Int) throws -> Int {
        // Even: tile origins stay on the Haar transform's 2-px grid, as at hide time.
        guard margin >= 0, margin % 2 == 0, 2 * margin < tile else {
            throw IMNError.invalidImage("tile margin \(margin) must be even and below half the tile \(tile)")
        }
        return tile - 2 * margin
    }

    static func span(_ low: Double, _ high: Double, _ limit: Int, _ tile: Int, _ margin: Int) throws -> (Int, Int) {
        let pitch = try self.pitch(tile, margin)
        let tiles = max(1, 1 + Int(ceil((high - low - Double(tile)) / Double(pitch))))
        let length = tile + (min(tiles, 1 + (limit - tile) / pitch) - 1) * pitch
        var start = Int(((low + high) / 2 - Double(length) / 2).rounded(.toNearestOrEven))  // Python's round()
        start = min(max(start, 0), limit - length)
        return (start, start + length)
    }

    /// The smallest region of whole tiles around `box` (as far as the photo allows), inside the
    /// photo: `tile + k * (tile - 2 * margin)` pixels along each axis.
    public static func snap(_ box: [Double], width: Int, height: Int, tile: Int, margin: Int = 0) throws -> Box {
        if width < tile || height < tile {
            throw IMNError.imageTooSmall("the photo is \(width)x\(height); hiding needs at least \(tile)x\(tile) pixels")
        }
        let x = try span(box[0], box[2], width, tile, margin), y = try span(box[1], box[3], height, tile, margin)
        return Box(x.0, y.0, x.1, y.1)
    }

    public static func merge(_ boxes: [[Double]], width: Int, height: Int, tile: Int, margin: Int = 0) throws -> [Box] {
        var regions = try boxes.map { try snap($0, width: width, height: height, tile: tile, margin: margin) }
        var merged = true
        while merged {
            merged = false
            outer: for i in regions.indices {
                for j in (i + 1)..<regions.count where regions[i].overlaps(regions[j]) {
                    let a = regions[i], b = regions.remove(at: j)
                    regions[i] = try snap([Double(min(a.x0, b.x0)), Double(min(a.y0, b.y0)), Double(max(a.x1, b.x1)),
                                           Double(max(a.y1, b.y1))], width: width, height: height, tile: tile, margin: margin)
                    merged = true
                    break outer
                }
            }
        }
        return regions.sorted { ($0.y0, $0.x0) < ($1.y0, $1.x0) }
    }

    /// Whether a region side of `length` pixels is whole tiles of this layout.
    public static func fits(_ length: Int, tile: Int, margin: Int) -> Bool {
        guard let pitch = try? pitch(tile, margin) else { return false }
        return length >= tile && (length - tile) % pitch == 0
    }

    /// (origin, core start, core end) of each tile along one axis of a region.
    static func axis(_ start: Int, _ end: Int, _ tile: Int, _ margin: Int) throws -> [(Int, Int, Int)] {
        let pitch = try self.pitch(tile, margin)  // a bad margin says so, as in Python and Kotlin
        guard fits(end - start, tile: tile, margin: margin) else {
            throw IMNError.invalidImage("a region side of \(end - start) px is not whole \(tile)-px tiles with margin \(margin)")
        }
        let origins = Array(stride(from: start, through: end - tile, by: pitch))
        let cuts = [start] + origins.dropFirst().map { $0 + margin } + [end]
        return origins.enumerated().map { ($0.element, cuts[$0.offset], cuts[$0.offset + 1]) }
    }

    /// Each tile of `region`, row by row: the `tile`-px square at `(x, y)` and its core.
    public static func tileLayout(_ region: Box, tile: Int, margin: Int = 0) throws -> [Tile] {
        let xs = try axis(region.x0, region.x1, tile, margin), ys = try axis(region.y0, region.y1, tile, margin)
        return ys.flatMap { y in xs.map { x in Tile(x: x.0, y: y.0, core: Box(x.1, y.1, x.2, y.2)) } }
    }
}
