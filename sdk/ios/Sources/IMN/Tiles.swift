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

/// Hidden regions: whole tiles over each face, merged when they overlap (photo.md §4).
public enum Tiles {
    static func span(_ low: Double, _ high: Double, _ limit: Int, _ tile: Int) -> (Int, Int) {
        let tiles = max(1, Int(ceil((high - low) / Double(tile))))
        let length = min(tiles, limit / tile) * tile
        var start = Int(((low + high) / 2 - Double(length) / 2).rounded(.toNearestOrEven))  // Python's round()
        start = min(max(start, 0), limit - length)
        return (start, start + length)
    }

    public static func snap(_ box: [Double], width: Int, height: Int, tile: Int) throws -> Box {
        if width < tile || height < tile {
            throw IMNError.imageTooSmall("the photo is \(width)x\(height); hiding needs at least \(tile)x\(tile) pixels")
        }
        let x = span(box[0], box[2], width, tile), y = span(box[1], box[3], height, tile)
        return Box(x.0, y.0, x.1, y.1)
    }

    public static func merge(_ boxes: [[Double]], width: Int, height: Int, tile: Int) throws -> [Box] {
        var regions = try boxes.map { try snap($0, width: width, height: height, tile: tile) }
        var merged = true
        while merged {
            merged = false
            outer: for i in regions.indices {
                for j in (i + 1)..<regions.count where regions[i].overlaps(regions[j]) {
                    let a = regions[i], b = regions.remove(at: j)
                    regions[i] = try snap([Double(min(a.x0, b.x0)), Double(min(a.y0, b.y0)), Double(max(a.x1, b.x1)),
                                           Double(max(a.y1, b.y1))], width: width, height: height, tile: tile)
                    merged = true
                    break outer
                }
            }
        }
        return regions.sorted { ($0.y0, $0.x0) < ($1.y0, $1.x0) }
    }

    public static func tileOrigins(_ region: Box, tile: Int) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        for y in stride(from: region.y0, to: region.y1, by: tile) {
            for x in stride(from: region.x0, to: region.x1, by: tile) { out.append((x, y)) }
        }
        return out
    }
}
