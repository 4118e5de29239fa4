import CryptoKit
import XCTest
@testable import IMN

/// The pure steps against sdk/golden/ (written by the Python reference SDK; the Kotlin SDK
/// passes the same vectors in CI).
final class GoldenTests: XCTestCase {
    func assertClose(_ a: [Double], _ b: [Double], _ tolerance: Double, _ message: String = "", line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, message, line: line)
        for (x, y) in zip(a, b) where abs(x - y) > tolerance { XCTFail("\(message): \(x) vs \(y)", line: line); return }
    }

    func testCropTransform() throws {
        let c = try TestEnv.golden("geometry")["crop_transform"] as! [String: Any]
        let landmarks = (c["landmarks"] as! [[NSNumber]]).map { $0.map { $0.doubleValue } }
        assertClose(TestEnv.flat(c["output"]), Align.cropTransform(landmarks, size: c["size"] as! Int).m, 1e-6)
    }

    func testBlendBox() throws {
        let c = try TestEnv.golden("geometry")["blend_box"] as! [String: Any]
        let landmarks = (c["landmarks"] as! [[NSNumber]]).map { $0.map { $0.doubleValue } }
        let size = c["size"] as! Int
        XCTAssertEqual(TestEnv.flat(c["output"]), Align.blendBox(Align.cropTransform(landmarks, size: size), size: size))
    }

    func testFaceAlpha() throws {
        let c = try TestEnv.golden("geometry")["face_alpha"] as! [String: Any]
        assertClose(TestEnv.flat(c["output"]), Align.faceAlpha(size: c["size"] as! Int).map(Double.init), 1e-6)
    }

    func testRegionAlpha() throws {
        let c = try TestEnv.golden("masks")["region_alpha"] as! [String: Any]
        assertClose(TestEnv.flat(c["output"]), Masks.regionAlpha(c["size"] as! Int).map(Double.init), 1e-4)
    }

    func testDonorCompositeOnPatterns() throws {
        let c = try TestEnv.golden("masks")["compose_pattern"] as! [String: Any]
        let outline = TestEnv.patternImage(height: 32, width: 32, seed: 17).pixels.enumerated().filter { $0.offset % 3 == 0 }.map { $0.element }
        let got = Masks.compose(TestEnv.patternImage(height: 32, width: 32, seed: 11),
                                Masks.Donor(face: TestEnv.patternImage(height: 32, width: 32, seed: 13), outline: outline))
        assertClose(TestEnv.flat(c["output"]), got.pixels.map(Double.init), 1.0)
    }

    func testDonorCompositeOnTheShippedBank() throws {
        // The bank as an app decodes it (ImageIO, then Masks.loadBank), donor 5 over the
        // astronaut's aligned face: within one level of the Python SDK everywhere.
        let codec = ImageIOCodec()
        let info = try JSONSerialization.jsonObject(with: Data(contentsOf: TestEnv.models.appendingPathComponent("donors.json"))) as! [String: Any]
        let read = { (url: URL) throws -> RGBImage in try PhotoIO.read([UInt8](try Data(contentsOf: url)), codec: codec).rgb }
        let bank = try Masks.loadBank(read(TestEnv.models.appendingPathComponent(info["image"] as! String)), count: info["count"] as! Int,
                                      size: info["size"] as! Int, box: info["box"] as! [Int])
        let c = try TestEnv.golden("masks")["compose_bank"] as! [String: Any]
        let face = try read(TestEnv.golden.appendingPathComponent(c["face"] as! String))
        let expected = try read(TestEnv.golden.appendingPathComponent(c["output"] as! String))
        assertClose(expected.pixels.map(Double.init), Masks.compose(face, bank[c["donor"] as! Int]).pixels.map(Double.init), 1.0)
        var layout = [UInt8]()
        for d in bank { for i in 0..<d.outline.count { layout += d.face.pixels[(i * 3)..<(i * 3 + 3)]; layout.append(d.outline[i]) } }
        let sha = SHA256.hash(data: layout).map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(sha, (try TestEnv.golden("masks")["bank_pixels"] as! [String: Any])["decoded_sha256"] as? String)
    }

    func testSnapAndMerge() throws {
        let g = try TestEnv.golden("geometry")
        for case let o as [String: Any] in (g["snap"] as! [String: Any])["cases"] as! [Any] {
            let photo = o["photo"] as! [Int]
            let box = try Tiles.snap(TestEnv.flat(o["box"]), width: photo[0], height: photo[1], tile: o["tile"] as! Int,
                                     margin: o["margin"] as! Int)
            XCTAssertEqual(TestEnv.flat(o["output"]).map { Int($0) }, [box.x0, box.y0, box.x1, box.y1])
        }
        for case let o as [String: Any] in (g["tile_layout"] as! [String: Any])["cases"] as! [Any] {
            let r = TestEnv.flat(o["region"]).map { Int($0) }
            let layout = try Tiles.tileLayout(Box(r[0], r[1], r[2], r[3]), tile: o["tile"] as! Int, margin: o["margin"] as! Int)
            let expected = (o["output"] as! [Any]).map { t -> [Int] in
                let a = t as! [Any]
                return [a[0] as! Int, a[1] as! Int] + TestEnv.flat(a[2]).map { Int($0) }
            }
            XCTAssertEqual(expected, layout.map { [$0.x, $0.y, $0.core.x0, $0.core.y0, $0.core.x1, $0.core.y1] })
        }
        let m = g["merge"] as! [String: Any], photo = m["photo"] as! [Int]
        let merged = try Tiles.merge((m["boxes"] as! [Any]).map { TestEnv.flat($0) }, width: photo[0], height: photo[1], tile: m["tile"] as! Int)
        XCTAssertEqual((m["output"] as! [Any]).map { TestEnv.flat($0).map { Int($0) } }, merged.map { [$0.x0, $0.y0, $0.x1, $0.y1] })
    }

    /// This SDK's pipeline constants are the reference SDK's (constants.json).
    func testConstants() throws {
        let v = (try TestEnv.golden("constants")["pipeline"] as! [String: Any])["values"] as! [String: Any]
        XCTAssertEqual(v["min_face_pixels"] as! Double, Pipeline.minFacePixels)
        XCTAssertEqual(v["detect_max_pixels"] as! Double, Pipeline.detectMaxPixels)
        XCTAssertEqual(v["untouched_masked_weight"] as! Double, Double(Pipeline.untouchedMaskedWeight))
        XCTAssertEqual(v["tile_margin"] as! Int, Tiles.margin)
        XCTAssertEqual(v["key_piece"] as! Int, Keys.piece)
        XCTAssertEqual(v["donor_candidates"] as! Int, IMNBundle.donorCandidates)
        XCTAssertEqual(TestEnv.flat(v["detect_thresholds"]), Detect.thresholds)
        XCTAssertEqual(v["detect_scale_factor"] as! Double, Detect.scaleFactor)
        let formats = v["formats"] as! [String: Int]
        XCTAssertEqual([formats["legacy"]!, formats["sealed"]!, formats["keyless"]!],
                       [Metadata.formatVersion, Metadata.sealedFormatVersion, Metadata.keylessFormatVersion])
    }

    /// The records protect writes, from records.json's inputs; each must also parse.
    func testRecords() throws {
        let records = try TestEnv.golden("records")
        let keyless = records["keyless"] as! [String: Any], i = keyless["inputs"] as! [String: Any]
        let size = i["size"] as! [Int]
        let regions = (i["regions"] as! [[String: Int]]).map { Box($0["x"]!, $0["y"]!, $0["x"]! + $0["width"]!, $0["y"]! + $0["height"]!) }
        let built = Metadata.keylessRecord(width: size[0], height: size[1], bundle: i["bundle"] as! [String: Any],
                                           margin: i["margin"] as! Int, regions: regions, faces: i["faces"] as! [[String: Any]],
                                           masks: i["masks"] as! String, digest: i["digest"] as! String, mode: i["mode"] as! String)
        XCTAssertTrue((built as NSDictionary).isEqual(to: keyless["output"] as! [String: Any]))
        XCTAssertEqual(try Metadata.parseRecord(["imn": try Seal.text(built)]).margin, 16)
        let sealed = records["sealed"] as! [String: Any], s = sealed["inputs"] as! [String: Any]
        let parsed = try Metadata.parseRecord(["imn": try Seal.text(sealed["output"] as! [String: Any])])
        let sealedSize = s["size"] as! [Int]
        let rebuilt = Metadata.sealedRecord(width: sealedSize[0], height: sealedSize[1], regions: parsed.regions,
                                            digest: s["digest"] as! String, entry: parsed.sealed!, mode: s["mode"] as! String)
        XCTAssertTrue((rebuilt as NSDictionary).isEqual(to: sealed["output"] as! [String: Any]))
    }

    func testNMS() throws {
        let n = try TestEnv.golden("geometry")["nms"] as! [String: Any]
        let kept = Detect.nms((n["boxes"] as! [Any]).map { TestEnv.flat($0) }, TestEnv.flat(n["scores"]), (n["threshold"] as! NSNumber).doubleValue)
        XCTAssertEqual(TestEnv.flat(n["output"]).map { Int($0) }, kept.sorted())
    }

    func testPixelDigest() throws {
        let d = try TestEnv.golden("geometry")["pixel_digest"] as! [String: Any]
        let image = RGBImage(width: 8, height: 8, pixels: (0..<192).map { UInt8($0 % 251) })
        let regions = (d["regions"] as! [[String: Int]]).map { Box($0["x"]!, $0["y"]!, $0["x"]! + $0["width"]!, $0["y"]! + $0["height"]!) }
        XCTAssertEqual(d["output"] as? String, Metadata.pixelDigest(image, regions))
    }

    func testResamplersEqualPillow() throws {
        let r = try TestEnv.golden("resample"), image = TestEnv.patternImage(height: 37, width: 41, seed: 7)
        for (size, expected) in (r["box_resize"] as! [String: Any])["output"] as! [String: Any] {
            let wh = size.split(separator: "x").map { Int($0)! }
            XCTAssertEqual(TestEnv.flat(expected), Resample.boxResize(image, width: wh[0], height: wh[1]).pixels.map(Double.init), size)
        }
        let bicubic = r["bicubic_warp"] as! [String: Any], size = bicubic["size"] as! [Int]
        XCTAssertEqual(TestEnv.flat(bicubic["output"]),
                       Resample.warpBicubic(image, TestEnv.flat(bicubic["affine"]), width: size[0], height: size[1]).pixels.map(Double.init))
        let bilinear = r["bilinear_warp"] as! [String: Any], bsize = bilinear["size"] as! [Int]
        assertClose(TestEnv.flat(bilinear["output"]),
                    Resample.warpBilinear(TestEnv.pattern(19 * 23, seed: 3), w: 23, h: 19, TestEnv.flat(bilinear["affine"]),
                                          width: bsize[0], height: bsize[1]).map(Double.init), 1e-6)
        let crop = image.crop(x0: 0, y0: 0, w: 5, h: 3)
        for (k, expected) in (r["exif_orientation"] as! [String: Any])["output"] as! [String: Any] {
            XCTAssertEqual(TestEnv.flat(expected), Orientation.apply(crop, alpha: nil, orientation: Int(k)!).0.pixels.map(Double.init), k)
        }
    }

    func testKeys() throws {
        let k = try TestEnv.golden("keys")
        let salt = Keys.unhex(k["salt"] as! String)!
        let photoKey = try Keys.Secret.key(Keys.unhex(k["key"] as! String)!).photoKey(salt: salt)
        XCTAssertEqual(k["photo_key"] as? String, Keys.hex(photoKey))
        XCTAssertEqual(k["check"] as? String, Keys.checkValue(photoKey))
        XCTAssertEqual(k["passphrase_photo_key"] as? String, Keys.hex(try Keys.Secret.passphrase(k["passphrase"] as! String).photoKey(salt: salt)))
        let t = k["tile_scramble"] as! [String: Any]
        let s = Keys.tileScramble(photoKey: photoKey, region: t["region"] as! Int, x: t["x"] as! Int, y: t["y"] as! Int, count: t["count"] as! Int)
        XCTAssertEqual(t["order"] as! [Int], s.order)
        XCTAssertEqual(t["turns"] as! [Int], s.turns)
        let tile = TestEnv.patternImage(height: 128, width: 128, seed: 5)
        let scrambled = Keys.scramble(tile, s, piece: 32)
        XCTAssertEqual((k["scrambled_tile"] as! [String: Any])["sha256"] as? String,
                       SHA256.hash(data: Data(scrambled.pixels)).map { String(format: "%02x", $0) }.joined())
        XCTAssertEqual(tile, Keys.unscramble(scrambled, s, piece: 32))
    }

    func testTextChunkRoundTrip() throws {
        let png = try ImageIOCodec().encodePNG(TestEnv.patternImage(height: 5, width: 7, seed: 1), alpha: nil)
        let text = "{\"é\": \"" + String(repeating: "x", count: 5000) + "\"}"
        XCTAssertEqual(try PNG.textChunks(try PNG.withText(png, keyword: "imn", text: text))["imn"], text)
        XCTAssertThrowsError(try Metadata.parseRecord([:])) { XCTAssertEqual(String(describing: $0).contains("stripped"), true) }
    }

    static let valid = "{\"format\": 1, \"size\": [256, 256], \"bundle\": {\"checkpoint_sha256\": \"ab\", \"target\": \"onnx\", " +
        "\"precision\": \"fp32\", \"tile\": 64}, \"regions\": [{\"x\": 0, \"y\": 0, \"width\": 64, \"height\": 64}], " +
        "\"faces\": [], \"keyed\": false, \"digest\": \"sha256:" + String(repeating: "0", count: 64) + "\""

    func testRecordModeIsRGBOrL() throws {
        XCTAssertEqual(try Metadata.parseRecord(["imn": Self.valid + "}"]).mode, "RGB")
        XCTAssertEqual(try Metadata.parseRecord(["imn": Self.valid + ", \"mode\": \"L\"}"]).mode, "L")
        for bad in ["\"CMYK\"", "\"l\"", "\"LA\"", "1", "null", "true"] {
            XCTAssertThrowsError(try Metadata.parseRecord(["imn": Self.valid + ", \"mode\": \(bad)}"])) {
                XCTAssertEqual($0 as? IMNError, .invalidMetadata("imn metadata: mode must be RGB or L"))
            }
        }
    }

    func testSixteenBitPNGsAreRefused() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../../tests/sdk/image_corpus").standardized
        for name in ["rgb16.png", "rgba16.png", "gray16.png"] {
            let bytes = [UInt8](try Data(contentsOf: corpus.appendingPathComponent(name)))
            XCTAssertThrowsError(try PhotoIO.read(bytes, codec: ImageIOCodec())) {
                XCTAssertTrue(String(describing: $0).contains("16-bit"), "\(name): \($0)")
            }
        }
    }

    func testGrayIsPillowsLumaAndGrayPNGsReadAsL() throws {
        let rgb = RGBImage(width: 7, height: 1, pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 12, 200, 99, 255, 255, 255, 1, 2, 3, 128, 64, 250])
        XCTAssertEqual(PhotoIO.toGray(rgb), [76, 150, 29, 132, 255, 2, 104])  // Pillow's convert("L")
        let luma = PhotoIO.toGray(TestEnv.patternImage(height: 9, width: 11, seed: 2))
        let photo = try PhotoIO.read(try PNG.encodeGray(luma, alpha: nil, width: 11, height: 9), codec: ImageIOCodec())
        XCTAssertEqual(photo.mode, "L")
        XCTAssertEqual(photo.rgb.pixels, luma.flatMap { [$0, $0, $0] })
    }

    // MARK: sealed mode (photo.md §7)

    /// The pattern photo the sealed vectors were made from (seal.json's "photo" says the rule).
    func sealPhoto(_ seal: [String: Any]) -> RGBImage {
        let p = seal["photo"] as! [String: Any], shape = p["shape"] as! [Int]
        return TestEnv.patternImage(height: shape[0], width: shape[1], seed: (p["pattern_seed"] as! NSNumber).doubleValue)
    }

    func testSealKeyDerivation() throws {
        let seal = try TestEnv.golden("seal")
        let salt = Keys.unhex(seal["salt"] as! String)!
        let a = seal["argon2id"] as! [String: Int]
        let argon2 = Argon2Params(memoryKib: a["memory_kib"]!, iterations: a["iterations"]!, lanes: a["lanes"]!)
        XCTAssertEqual(argon2, Seal.argon2id)
        let material = try Seal.keyMaterial(.passphrase(seal["passphrase"] as! String), salt: salt, argon2: argon2)
        XCTAssertEqual(Keys.hex(material), seal["passphrase_material"] as? String)
        let byPhrase = Seal.deriveKeys(material, salt: salt)
        XCTAssertEqual(Keys.hex(byPhrase.aeadKey), seal["passphrase_aead_key"] as? String)
        XCTAssertEqual(byPhrase.check, seal["passphrase_check"] as? String)
        let key = Keys.unhex(seal["key"] as! String)!
        XCTAssertEqual(try Seal.keyMaterial(.key(key), salt: salt, argon2: nil), key)
        let byKey = Seal.deriveKeys(key, salt: salt)
        XCTAssertEqual(Keys.hex(byKey.aeadKey), seal["key_aead_key"] as? String)
        XCTAssertEqual(byKey.check, seal["key_check"] as? String)
    }

    func testPlaneResidualsAndTheCompactStep() throws {
        let seal = try TestEnv.golden("seal")
        let region = sealPhoto(seal).crop(x0: 0, y0: 0, w: 16, h: 8)  // "photo rows 0..7, columns 0..15"
        let residuals = Seal.planeResiduals(region)
        XCTAssertEqual(residuals.pixels.map(Double.init), TestEnv.flat((seal["plane_residuals"] as! [String: Any])["output"]))
        XCTAssertEqual(Seal.planePixels(residuals), region)
        let step = Seal.steps["compact"]!
        XCTAssertEqual(Seal.dequantize(Seal.quantize(region, step: step), step: step).pixels.map(Double.init),
                       TestEnv.flat((seal["compact_step_3"] as! [String: Any])["output"]))
    }

    func testSealedRecordPlaintextAndCiphertext() throws {
        let seal = try TestEnv.golden("seal")
        let photo = sealPhoto(seal)
        let text = seal["record_text"] as! String
        let record = try Metadata.parseRecord([Metadata.chunkKey: text])
        let entry = try XCTUnwrap(record.sealed)
        // The record this SDK writes for the same photo and entry is the Python SDK's, byte for byte.
        XCTAssertEqual(try Seal.text(Metadata.sealedRecord(width: photo.width, height: photo.height, regions: record.regions,
                                                 digest: Metadata.photoDigest(photo, alpha: nil), entry: entry, mode: "RGB")), text)
        let keys = try Seal.openKeys(entry, .key(Keys.unhex(seal["key"] as! String)!))
        let plaintext = Keys.unhex(seal["plaintext"] as! String)!, ciphertext = Keys.unhex(seal["ciphertext"] as! String)!
        XCTAssertEqual(entry.bytes, plaintext.count + Seal.tagBytes)
        XCTAssertEqual(Keys.hex(try Seal.encrypt(keys, entry, plaintext, recordText: text)), seal["ciphertext"] as? String)
        XCTAssertEqual(try Seal.decrypt(keys, entry, ciphertext, recordText: text), plaintext)
        let (inner, pixels) = try Seal.unpack(plaintext, regions: record.regions, step: entry.step)
        XCTAssertEqual(inner as NSDictionary, seal["inner"] as! NSDictionary)
        for (k, r) in record.regions.enumerated() {
            XCTAssertEqual(pixels[k], photo.crop(x0: r.x0, y0: r.y0, w: r.width, h: r.height), "region \(k)")
        }
        // One flipped bit of the ciphertext, or of the record's text, fails the tag.
        var flipped = ciphertext
        flipped[flipped.count / 2] ^= 1
        let edited = text.replacingOccurrences(of: "\"step\":1", with: "\"step\":3")
        XCTAssertNotEqual(edited, text)
        for (data, aad) in [(flipped, text), (ciphertext, edited)] {
            XCTAssertThrowsError(try Seal.decrypt(keys, entry, data, recordText: aad)) {
                guard case IMNError.imageModified(let m) = $0, m.contains("altered") else { return XCTFail("\($0)") }
            }
        }
    }
}
