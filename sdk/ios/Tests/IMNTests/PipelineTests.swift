import XCTest
@testable import IMN

/// The pipeline on a Core ML bundle against cases the Python SDK made with the ONNX artifacts of
/// the same checkpoint (README.md, "Pipeline tests"): recovery is another runtime's, so it is
/// compared by PSNR, not bit for bit.
final class PipelineTests: XCTestCase {
    var bundle: IMNBundle!
    var cases: URL!
    let codec = ImageIOCodec()

    override func setUpWithError() throws {
        guard let folder = TestEnv.bundle, let cases = TestEnv.cases else {
            throw XCTSkip("IMN_TEST_BUNDLE and IMN_TEST_CASES not set (README.md, Pipeline tests)")
        }
        bundle = try IMNBundle(folder: folder, runtime: CoreMLRuntime(computeUnits: .cpuOnly), target: "coreml", codec: codec)
        self.cases = cases
    }

    func read(_ name: String) throws -> Photo { try PhotoIO.read([UInt8](try Data(contentsOf: cases.appendingPathComponent(name))), codec: codec) }

    func psnr(_ a: RGBImage, _ b: RGBImage) -> Double {
        let mse = zip(a.pixels, b.pixels).map { Double(Int($0) - Int($1)) }.map { $0 * $0 }.reduce(0, +) / Double(a.pixels.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    func testRecoversThePythonProtectedPhoto() throws {
        let recovered = try Pipeline.recover(read("python.imn.png"), bundle: bundle)
        XCTAssertGreaterThan(psnr(recovered.rgb, try read("python.recovered.png").rgb), 45)  // another runtime, same checkpoint
        XCTAssertEqual(recovered.notes.count, 1)  // hidden with onnx, revealed with coreml
    }

    func testProtectFindsTheSameRegionsAndRoundTrips() throws {
        let input = try read("astronaut.png")
        let mine = try Pipeline.protect(input, bundle: bundle, donor: 0, keyless: true)  // the donor the Python SDK was given
        let python = try Metadata.parseRecord(read("python.imn.png").text)
        XCTAssertEqual(python.regions, try Metadata.parseRecord([Metadata.chunkKey: mine.recordJSON]).regions)
        let out = cases.appendingPathComponent("swift.imn.png")
        try? FileManager.default.removeItem(at: out)
        try mine.save(out, codec: codec)
        XCTAssertThrowsError(try mine.save(out, codec: codec))
        let back = try Pipeline.recover(read("swift.imn.png"), bundle: bundle)
        XCTAssertGreaterThan(psnr(back.rgb, input.rgb), 35)
    }

    func testDonorsAreDrawnAmongTheFarthestByIdentity() throws {
        let vectors = try XCTUnwrap(bundle.donorIdentities)
        let face = Resample.boxResize(try read("astronaut.png").rgb, width: bundle.size, height: bundle.size)
        let v = try bundle.identity(face)
        let weights = try XCTUnwrap(bundle.sexWeights), donorMale = try XCTUnwrap(bundle.donorMale)
        let male = zip(weights, v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } > -Double(bundle.sexBias) * v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let pool = donorMale.indices.filter { donorMale[$0] == male }
        var similarity = [Int: Double]()
        for k in pool { similarity[k] = zip(vectors[k], v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
        let farthest = Set(pool.sorted { (similarity[$0]!, $0) < (similarity[$1]!, $1) }.prefix(8))
        let drawn = Set(try (0..<40).map { _ in try bundle.chooseDonor(face) })
        XCTAssertTrue(drawn.isSubset(of: farthest) && drawn.count > 1, "\(drawn) not within \(farthest)")
    }

    func testRefusalsComeBeforeRevealing() throws {
        XCTAssertThrowsError(try Pipeline.recover(read("astronaut.png"), bundle: bundle)) {
            guard case IMNError.notProtected = $0 else { return XCTFail("\($0)") }
        }
        let python = try read("python.imn.png")
        var edited = python.rgb
        let region = try Metadata.parseRecord(python.text).regions[0]
        edited.pixels[((region.y0 + 3) * edited.width + region.x0 + 3) * 3] &+= 1
        XCTAssertThrowsError(try Pipeline.recover(Photo(rgb: edited, text: python.text, format: "PNG"), bundle: bundle)) {
            guard case IMNError.imageModified = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try Pipeline.protect(Photo(rgb: RGBImage(width: 32, height: 300)), bundle: bundle, keyless: true)) {
            guard case IMNError.imageTooSmall = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try Pipeline.protect(Photo(rgb: RGBImage(width: 200, height: 150, pixels: [UInt8](repeating: 120, count: 90_000))),
                                                  bundle: bundle, keyless: true)) {
            guard case IMNError.noFaceFound = $0 else { return XCTFail("\($0)") }
        }
    }

    func testProtectedPhotosAreRefused() throws {
        XCTAssertThrowsError(try Pipeline.protect(read("python.imn.png"), bundle: bundle, keyless: true)) {
            guard case IMNError.alreadyProtected(let m) = $0, m.contains("already protected") else { return XCTFail("\($0)") }
        }
    }

    func testGrayscalePhotoGetsAGrayMaskAndComesBackGray() throws {
        let colour = try read("astronaut.png").rgb
        let png = try PNG.encodeGray(PhotoIO.toGray(colour), alpha: nil, width: colour.width, height: colour.height)
        let result = try Pipeline.protect(try PhotoIO.read(png, codec: codec), bundle: bundle, keyless: true)
        XCTAssertEqual(result.record["mode"] as? String, "L")
        let out = cases.appendingPathComponent("swift.gray.imn.png")
        try? FileManager.default.removeItem(at: out)
        try result.save(out, codec: codec)
        let recovered = try Pipeline.recover(read("swift.gray.imn.png"), bundle: bundle)
        XCTAssertEqual(recovered.mode, "L")
        let back = cases.appendingPathComponent("swift.gray.recovered.png")
        try? FileManager.default.removeItem(at: back)
        try recovered.save(back, codec: codec)
        XCTAssertTrue(try PNG.header([UInt8](try Data(contentsOf: back))).gray)
    }

    /// photo.md §7: Swift seals the astronaut with the cases' key and opens it bit for bit without a
    /// bundle, and opens the photo the Python SDK sealed (sealed recovery runs no network, so it is
    /// exact across runtimes).
    func testSealedPhotos() throws {
        let key = try Keys.readKeyFile(cases.appendingPathComponent("key.txt"))
        let secret = Keys.Secret.key(key)
        let input = try read("astronaut.png")
        let mine = try Pipeline.protect(input, bundle: bundle, secret: secret, donor: 0)
        XCTAssertTrue(mine.isSealed)
        let out = cases.appendingPathComponent("swift.sealed.imn.png")
        try? FileManager.default.removeItem(at: out)
        try mine.save(out, codec: codec)
        let saved = try read("swift.sealed.imn.png")
        let text = saved.text[Metadata.chunkKey]!
        let clear = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        XCTAssertEqual(Set(clear.keys), ["format", "size", "regions", "digest", "sealed"])
        XCTAssertFalse(text.contains(Keys.hex(key)))
        let recovered = try Pipeline.recover(saved, bundle: nil, secret: secret)
        XCTAssertEqual(recovered.rgb, input.rgb)
        XCTAssertEqual(((recovered.record.json["faces"] as? [[String: Any]])?.first?["donor"] as? NSNumber)?.intValue, 0)
        let python = try read("python.sealed.imn.png")
        XCTAssertEqual(try Pipeline.recover(python, bundle: nil, secret: secret).rgb, input.rgb)
        for photo in [saved, python] {
            XCTAssertThrowsError(try Pipeline.recover(photo, bundle: bundle)) {
                guard case IMNError.keyRequired(let m) = $0, m.contains("sealed") else { return XCTFail("\($0)") }
            }
            XCTAssertThrowsError(try Pipeline.recover(photo, bundle: nil, secret: .key(Keys.generateKey()))) {
                guard case IMNError.wrongKey(let m) = $0, m.contains("wrong key") else { return XCTFail("\($0)") }
            }
        }
    }

    func testCompactSealsAreSmallerAndWithinOneLevel() throws {
        let input = try read("astronaut.png")
        let secret = Keys.Secret.passphrase("violet tram under seven moons")
        let lossless = try Pipeline.protect(input, bundle: bundle, secret: secret, donor: 0)
        let compact = try Pipeline.protect(input, bundle: bundle, secret: secret, donor: 0, sealQuality: "compact")
        XCTAssertLessThan(Double(compact.sealed!.count), 0.85 * Double(lossless.sealed!.count))
        let photo = Photo(rgb: compact.rgb, text: [Metadata.chunkKey: compact.recordJSON], format: "PNG",
                          chunks: [Seal.chunkType: compact.sealed!])
        let recovered = try Pipeline.recover(photo, bundle: nil, secret: secret).rgb
        XCTAssertEqual(zip(input.rgb.pixels, recovered.pixels).map { abs(Int($0) - Int($1)) }.max(), 1)
    }

    func testProtectNeedsAnExplicitMode() throws {
        let input = try read("astronaut.png")
        XCTAssertThrowsError(try Pipeline.protect(input, bundle: bundle)) {
            guard case IMNError.keyRequired(let m) = $0, m.contains("keyless: true") else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try Pipeline.protect(input, bundle: bundle, secret: .key(Keys.generateKey()), keyless: true)) {
            guard case IMNError.invalidArgument(let m) = $0, m.contains("not both") else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try Pipeline.protect(input, bundle: bundle, secret: .passphrase("password1"))) {
            guard case IMNError.weakPassphrase = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try Pipeline.recover(read("python.imn.png"), bundle: nil)) {
            guard case IMNError.bundleMismatch = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try Pipeline.recover(read("python.imn.png"), bundle: bundle, secret: .key(Keys.generateKey()))) {
            guard case IMNError.wrongKey(let m) = $0, m.contains("keyless, not sealed") else { return XCTFail("\($0)") }
        }
    }
}
