import XCTest
@testable import IMN

/// Sealed mode without a bundle (photo.md §7; the Kotlin SDK's SealTest.kt, the Python SDK's
/// tests/sdk/test_seal.py): pixels coded without loss, passphrase rules, the `imSd` chunk through
/// a real PNG, and a sealed photo's recovery and every refusal before any output.
final class SealTests: XCTestCase {
    let passphrase = "violet tram under seven moons"
    let codec = ImageIOCodec()

    func randomImage(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var state = seed &+ 0x9E3779B97F4A7C15  // splitmix64: reproducible without Foundation's generators
        let pixels: [UInt8] = (0..<(width * height * 3)).map { _ in
            state = state &+ 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// `body` must throw the `IMNError` that `matching` accepts, with `message` in its text.
    func assertRefused(_ what: String, _ message: String, _ body: () throws -> Void, matching: (IMNError) -> Bool) {
        XCTAssertThrowsError(try body(), what) { error in
            guard let e = error as? IMNError, matching(e), e.description.contains(message) else { return XCTFail("\(what): \(error)") }
        }
    }

    func testPlaneResidualsInvertExactly() {
        for (w, h) in [(1, 1), (13, 7), (48, 64)] {
            let pixels = randomImage(width: w, height: h, seed: UInt64(w))
            XCTAssertEqual(Seal.planePixels(Seal.planeResiduals(pixels)), pixels)
        }
        // A horizontal ramp leaves residuals only in the first row and column.
        let ramp = RGBImage(width: 64, height: 64, pixels: (0..<(64 * 64 * 3)).map { UInt8(($0 / 3) % 64) })
        XCTAssertLessThanOrEqual(Seal.planeResiduals(ramp).pixels.filter { $0 != 0 }.count, 64 * 3 * 2)
    }

    func testCompactStepKeepsEveryPixelWithinOneLevel() {
        let values = RGBImage(width: 16, height: 16, pixels: (0..<(256 * 3)).map { UInt8($0 / 3) })
        let step = Seal.steps["compact"]!
        let back = Seal.dequantize(Seal.quantize(values, step: step), step: step)
        XCTAssertEqual(zip(values.pixels, back.pixels).map { abs(Int($0) - Int($1)) }.max(), 1)
    }

    func testPackRoundTripsAndRefusesAnythingElse() throws {
        let rgb = randomImage(width: 60, height: 40, seed: 1)
        let regions = [Box(0, 0, 20, 10), Box(30, 20, 60, 40)]
        let inner: [String: Any] = ["faces": [["box": [1, 2, 3, 4]]], "masks": "donors"]
        let data = try Seal.pack(rgb, regions: regions, inner: inner, step: 1)
        let (got, pixels) = try Seal.unpack(data, regions: regions, step: 1)
        XCTAssertEqual(got as NSDictionary, inner as NSDictionary)
        for (k, r) in regions.enumerated() { XCTAssertEqual(pixels[k], rgb.crop(x0: r.x0, y0: r.y0, w: r.width, h: r.height)) }
        let shortHeader: [UInt8] = [0, 0, 0, 2] + Array("{}".utf8) + Array(data[6...])
        for bad in [Array(data.dropLast(5)), data + [0], Array(data.prefix(3)), shortHeader] {
            assertRefused("\(bad.count) bytes", "do not match", { _ = try Seal.unpack(bad, regions: regions, step: 1) }) {
                if case .imageModified = $0 { return true } else { return false }
            }
        }
        assertRefused("more pixels than the regions hold", "do not match", { _ = try Seal.unpack(data, regions: [regions[0]], step: 1) }) {
            if case .imageModified = $0 { return true } else { return false }
        }
    }

    func testPassphrasesNeedLengthAndVariety() throws {
        try Seal.checkPassphrase(passphrase)
        for (weak, reason) in [("short one", "12 characters"), ("aaaaaaaaaaaaaaaa", "different characters"), ("9081726354091", "too easy")] {
            assertRefused(weak, reason, { try Seal.checkPassphrase(weak) }) {
                if case .weakPassphrase = $0 { return true } else { return false }
            }
        }
        // The same passphrase, composed or decomposed, gives the same bytes and the same count.
        XCTAssertEqual(Seal.normalizePassphrase("caf\u{e9} au lait noir"), Seal.normalizePassphrase("cafe\u{301} au lait noir"))
        XCTAssertEqual(Seal.passphraseBits("caf\u{e9} au lait noir"), Seal.passphraseBits("cafe\u{301} au lait noir"))
        XCTAssertEqual(Seal.passphraseBits("Ab1 Ab1 Ab1 Ab1 "), 16 * log2(10.0 + 26 + 26 + 33), accuracy: 1e-9)
    }

    /// A sealed photo of `rgb` with a flat grey stand-in for the Mask, written to a PNG file with
    /// its imn and imSd chunks (the bundle only detects and masks; sealing needs none).
    func sealedFile(_ rgb: RGBImage, regions: [Box], secret: Keys.Secret, folder: URL, step: Int = 1) throws -> URL {
        let plaintext = try Seal.pack(rgb, regions: regions, inner: ["faces": [Any](), "masks": "donors"], step: step)
        let (entry, keys) = try Seal.newEntry(secret, step: step, bytes: plaintext.count + Seal.tagBytes)
        var masked = rgb
        for r in regions { masked.paste(RGBImage(width: r.width, height: r.height, pixels: [UInt8](repeating: 120, count: r.width * r.height * 3)), x0: r.x0, y0: r.y0) }
        let text = try Seal.text(Metadata.sealedRecord(width: rgb.width, height: rgb.height, regions: regions,
                                             digest: Metadata.photoDigest(masked, alpha: nil), entry: entry, mode: "RGB"))
        return try PhotoIO.writePNG(folder.appendingPathComponent("sealed.png"), masked, alpha: nil, text: [Metadata.chunkKey: text],
                                    codec: codec, chunks: [Seal.chunkType: try Seal.encrypt(keys, entry, plaintext, recordText: text)])
    }

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imn-seal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func testSealedPhotosRecoverWithoutABundleAndRefuseEverythingElse() throws {
        let rgb = randomImage(width: 50, height: 30, seed: 2)
        let regions = [Box(3, 2, 23, 14), Box(30, 10, 50, 30)]
        let secret = Keys.Secret.key(Keys.generateKey())
        let url = try sealedFile(rgb, regions: regions, secret: secret, folder: try temporaryFolder())
        let bytes = [UInt8](try Data(contentsOf: url))
        let ascii = String(decoding: bytes, as: Unicode.ASCII.self)
        let order = ["iTXt", "imSd", "IDAT"].map { ascii.range(of: $0).map { ascii.distance(from: ascii.startIndex, to: $0.lowerBound) } ?? -1 }
        XCTAssertEqual(order, order.sorted(), "imn text, then imSd, then the pixels")
        let photo = try PhotoIO.read(bytes, codec: codec)
        let recovered = try Pipeline.recover(photo, bundle: nil, secret: secret)
        XCTAssertEqual(recovered.rgb, rgb)
        XCTAssertTrue(recovered.record.isSealed && recovered.record.json["faces"] != nil)

        let isKeyRequired: (IMNError) -> Bool = { if case .keyRequired = $0 { return true } else { return false } }
        let isWrongKey: (IMNError) -> Bool = { if case .wrongKey = $0 { return true } else { return false } }
        let isModified: (IMNError) -> Bool = { if case .imageModified = $0 { return true } else { return false } }
        assertRefused("no key", "sealed", { _ = try Pipeline.recover(photo, bundle: nil) }, matching: isKeyRequired)
        assertRefused("a wrong key", "wrong key", { _ = try Pipeline.recover(photo, bundle: nil, secret: .key(Keys.generateKey())) },
                      matching: isWrongKey)
        assertRefused("a passphrase for a key", "passphrase", { _ = try Pipeline.recover(photo, bundle: nil, secret: .passphrase(self.passphrase)) },
                      matching: isWrongKey)
        let data = photo.chunks[Seal.chunkType]!
        var flipped = data
        flipped[flipped.count / 2] ^= 1
        func altered(_ chunks: [String: [UInt8]], text: String? = nil) -> Photo {
            Photo(rgb: photo.rgb, text: [Metadata.chunkKey: text ?? photo.text[Metadata.chunkKey]!], format: "PNG", chunks: chunks)
        }
        assertRefused("a flipped ciphertext bit", "altered",
                      { _ = try Pipeline.recover(altered([Seal.chunkType: flipped]), bundle: nil, secret: secret) }, matching: isModified)
        // A record edited so that it still parses fails the tag all the same.
        let edited = photo.text[Metadata.chunkKey]!.replacingOccurrences(of: "\"step\":1", with: "\"step\":3")
        assertRefused("an edited record", "altered",
                      { _ = try Pipeline.recover(altered([Seal.chunkType: data], text: edited), bundle: nil, secret: secret) }, matching: isModified)
        assertRefused("a dropped chunk", "imSd", { _ = try Pipeline.recover(altered([:]), bundle: nil, secret: secret) }, matching: isModified)
        assertRefused("a truncated chunk", "bytes",
                      { _ = try Pipeline.recover(altered([Seal.chunkType: Array(data.dropLast())]), bundle: nil, secret: secret) }, matching: isModified)
        let twice = try PNG.withChunk(bytes, type: Seal.chunkType, data: data)
        assertRefused("two imSd chunks", "two imSd", { _ = try PhotoIO.read(twice, codec: self.codec) }) {
            if case .invalidImage = $0 { return true } else { return false }
        }
    }

    func testAPassphraseSealsCompactWithinOneLevel() throws {
        let rgb = randomImage(width: 40, height: 40, seed: 3)
        let url = try sealedFile(rgb, regions: [Box(8, 8, 40, 32)], secret: .passphrase(passphrase), folder: try temporaryFolder(),
                                 step: Seal.steps["compact"]!)
        let photo = try PhotoIO.read([UInt8](try Data(contentsOf: url)), codec: codec)
        XCTAssertEqual(try Metadata.parseRecord(photo.text).sealed?.argon2, Seal.argon2id)
        let recovered = try Pipeline.recover(photo, bundle: nil, secret: .passphrase(passphrase)).rgb
        XCTAssertEqual(zip(rgb.pixels, recovered.pixels).map { abs(Int($0) - Int($1)) }.max(), 1)
        assertRefused("another passphrase", "wrong key", { _ = try Pipeline.recover(photo, bundle: nil, secret: .passphrase(self.passphrase + "!")) }) {
            if case .wrongKey = $0 { return true } else { return false }
        }
    }

    func testSealedRecordsAreCheckedAsThePythonSDKChecksThem() throws {
        let entry: [String: Any] = [
            "cipher": "aes-256-gcm", "kind": "passphrase",
            "kdf": ["argon2id": ["memory_kib": 65536, "iterations": 3, "lanes": 1], "then": "hkdf-sha256"],
            "salt": String(repeating: "0", count: 32), "nonce": String(repeating: "1", count: 24), "check": String(repeating: "2", count: 32),
            "pixels": "plane-deflate", "step": 1, "bytes": 1000]
        func record(_ entry: Any, _ extra: [String: Any] = [:], format: Int = 2) throws -> String {
            var r: [String: Any] = ["format": format, "size": [64, 64], "regions": [["x": 0, "y": 0, "width": 64, "height": 32]],
                                    "digest": "sha256:" + String(repeating: "0", count: 64), "sealed": entry]
            r.merge(extra) { $1 }
            return try Seal.text(r)
        }
        let parsed = try Metadata.parseRecord(["imn": try record(entry)])
        XCTAssertEqual(parsed.format, 2)
        XCTAssertEqual(parsed.sealed?.argon2, Argon2Params(memoryKib: 65536, iterations: 3, lanes: 1))
        XCTAssertNil(parsed.bundle)
        func changed(_ name: String, _ value: Any) -> [String: Any] { var e = entry; e[name] = value; return e }
        func argon2(_ name: String, _ value: Int) -> [String: Any] {
            var a: [String: Any] = ["memory_kib": 65536, "iterations": 3, "lanes": 1]
            a[name] = value
            return changed("kdf", ["argon2id": a, "then": "hkdf-sha256"] as [String: Any])
        }
        let badEntries: [Any] = [
            changed("cipher", "xor"), changed("kind", "pin"), changed("nonce", String(repeating: "1", count: 23)),
            changed("salt", String(repeating: "A", count: 32)), changed("kdf", "hkdf-sha256"),
            changed("kdf", ["argon2id": ["memory_kib": 65536, "iterations": 3, "lanes": 1], "then": "hkdf-sha256", "more": 1] as [String: Any]),
            changed("step", 0), changed("step", 1.5), changed("bytes", 1_000_000_000), changed("bytes", 15),
            argon2("memory_kib", 1 << 30), argon2("memory_kib", 4096), argon2("iterations", 1000), argon2("lanes", 16), [Any](), NSNull()]
        var bad = try badEntries.map { try record($0) }
        bad += [try record(entry, ["faces": [Any]()]), try record(entry, ["keyed": true]), try record(entry, ["key": [String: Any]()]),
                try record(entry, ["bundle": [String: Any]()]), try record(entry, format: 1), try record(entry, format: 3)]
        for text in bad {
            XCTAssertThrowsError(try Metadata.parseRecord(["imn": text]), text) {
                guard case IMNError.invalidMetadata = $0 else { return XCTFail("\(text): \($0)") }
            }
        }
        // Format 2 regions are any disjoint rectangles inside the photo, not whole tiles.
        let odd = try record(entry).replacingOccurrences(of: "\"height\":32,\"width\":64", with: "\"height\":5,\"width\":7")
        XCTAssertEqual(try Metadata.parseRecord(["imn": odd]).regions, [Box(0, 0, 7, 5)])
    }
}
