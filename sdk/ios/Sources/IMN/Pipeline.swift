import Foundation

/// A protected photo ready to save: masked pixels, kept alpha and the `imn` record. A sealed
/// photo also carries `recordText`, the record's exact text (its ciphertext is bound to it), and
/// `sealed`, the `imSd` chunk: the regions' original pixels, encrypted.
public struct ProtectedImage {
    public let rgb: RGBImage
    public let alpha: [UInt8]?
    public let record: [String: Any]
    public let faces: [Face]
    public let skipped: [String]
    public let notes: [String]
    public var recordText: String? = nil
    public var sealed: [UInt8]? = nil

    public var isSealed: Bool { sealed != nil }

    /// The `imn` chunk's text: a sealed photo's exact `recordText`, else the record with sorted keys.
    public var recordJSON: String {
        recordText ?? String(decoding: try! JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self)
    }

    @discardableResult
    public func save(_ url: URL, codec: PhotoCodec, overwrite: Bool = false) throws -> URL {
        try PhotoIO.writePNG(url, rgb, alpha: alpha, text: [Metadata.chunkKey: recordJSON], codec: codec, overwrite: overwrite,
                             chunks: sealed.map { [Seal.chunkType: $0] } ?? [:])
    }
}

public struct RecoveredImage {
    public let rgb: RGBImage
    public let alpha: [UInt8]?
    public let record: Record
    public let notes: [String]

    /// The protected photo's own mode: "L" (grayscale, written as such by `save`) or "RGB".
    public var mode: String { record.mode }

    @discardableResult
    public func save(_ url: URL, codec: PhotoCodec, overwrite: Bool = false) throws -> URL {
        try PhotoIO.writePNG(url, rgb, alpha: alpha, text: [:], codec: codec, overwrite: overwrite, mode: mode)
    }
}

/// protect and recover whole photos (photo.md), step for step the Python and Kotlin SDKs: detect →
/// align → Mask face → feathered blend → then, by the caller's explicit choice, sealed (a key or
/// passphrase, §7: each region's original pixels compressed and encrypted into the PNG's `imSd`
/// chunk; the pixels show the Mask only) or keyless (the paper's method: the originals hidden in
/// the pixels by the hiding network; anyone with a bundle recovers them). recover decrypts and
/// pastes (sealed) or reveals each tile (keyless; keyed photos of earlier releases, §8:
/// unscrambled with the key).
public enum Pipeline {
    public static let minFacePixels = 40.0
    /// Detection runs on a copy of at most this many pixels (1280 × 960), so its cost is bounded
    /// whatever the photo's shape; a panorama keeps the detail its faces need.
    public static let detectMaxPixels = 1280.0 * 960.0
    /// Where no face was blended, masked and revealed pixels are two noisy readings of the
    /// original: recover mixes them (the Python SDK's UNTOUCHED_MASKED_WEIGHT).
    public static let untouchedMaskedWeight: Float = 0.8
    public static let chooseMode = "choose how the faces can be recovered: a key or passphrase (secret: ...: sealed, only its " +
        "holder recovers them) or keyless: true (the paper's method: anyone with an IMN bundle, which ships in every app, " +
        "recovers them from the pixels)"

    public static func findFaces(_ bundle: IMNBundle, _ rgb: RGBImage) throws -> [Face] {
        let scale = min(1.0, (detectMaxPixels / (Double(rgb.width) * Double(rgb.height))).squareRoot())
        let small = scale == 1.0 ? rgb : Resample.boxResize(rgb, width: Int((Double(rgb.width) * scale).rounded(.toNearestOrEven)),
                                                            height: Int((Double(rgb.height) * scale).rounded(.toNearestOrEven)))
        let s = Float(scale)
        return try Detect.detectFaces(small, bundle.detector, minFace: max(20, minFacePixels * scale)).map { f in
            Face(box: f.box.map { $0 / scale }, score: f.score, landmarks: f.landmarks.map { [$0[0] / s, $0[1] / s] })
        }
    }

    static func landmarks(_ face: Face) -> [[Double]] { face.landmarks.map { [Double($0[0]), Double($0[1])] } }

    static func round1(_ v: Double) -> Double { (v * 10).rounded() / 10 }

    /// Write the core of tile `t` (`image`, the whole tile) into the photo.
    static func pasteCore(_ out: inout RGBImage, _ image: RGBImage, _ t: Tiles.Tile) {
        out.paste(image.crop(x0: t.core.x0 - t.x, y0: t.core.y0 - t.y, w: t.core.width, h: t.core.height),
                  x0: t.core.x0, y0: t.core.y0)
    }

    /// Put a Mask on every face and keep the originals for whoever may recover them. `masks`:
    /// "donors" (Masks v2, the default: a face of nobody from the bundle's bank; `donor` fixes
    /// which, else each face draws one at random) or "masknet" (the paper's; `identity`: a preset
    /// index or nil for face i gets preset i mod K).
    ///
    /// How the faces come back is the caller's explicit choice, one of:
    /// - `secret` (a 256-bit key, or a passphrase that passes `Seal.checkPassphrase`): **sealed**.
    ///   The originals are encrypted (AES-256-GCM) into the PNG and the pixels show only the
    ///   Mask; only the secret's holder recovers them, bit-exact (`sealQuality` "lossless") or
    ///   within one level per pixel ("compact", about 25% smaller).
    /// - `keyless: true`: the paper's method. The originals are hidden in the pixels by the
    ///   hiding network, and anyone with an IMN bundle (every app ships one) recovers them.
    ///
    /// Neither throws `.keyRequired`, both `.invalidArgument`, a weak passphrase
    /// `.weakPassphrase`, all before any work. A photo that carries an `imn` record is refused
    /// (`.alreadyProtected`); a grayscale photo (`mode` "L") gets a gray Mask and a record saying so.
    public static func protect(_ photo: Photo, bundle: IMNBundle, identity: Int? = nil, secret: Keys.Secret? = nil,
                               progress: (String) -> Void = { _ in }, masks: String = "donors",
                               donor: Int? = nil, keyless: Bool = false, sealQuality: String = "lossless") throws -> ProtectedImage {
        if secret != nil && keyless {
            throw IMNError.invalidArgument("a photo is either sealed (secret: ...) or keyless (keyless: true), not both")
        }
        if secret == nil && !keyless { throw IMNError.keyRequired(chooseMode) }
        guard let step = Seal.steps[sealQuality] else {
            throw IMNError.invalidArgument("sealQuality must be one of lossless, compact, not \(sealQuality)")
        }
        if case .passphrase(let text)? = secret { try Seal.checkPassphrase(text) }  // before any work
        if photo.text[Metadata.chunkKey] != nil {
            // Hiding it again would bury the first record under the second: recovering would return
            // the first masked photo with no record, and its real faces would be lost for good.
            throw IMNError.alreadyProtected("this photo is already protected by IMN; protecting it again would lose its hidden " +
                                            "faces for good: protect the original photo, or recover this one first")
        }
        try bundle.require(masks)
        let rgb = photo.rgb, size = bundle.size
        _ = try Tiles.snap([0, 0, 1, 1], width: rgb.width, height: rgb.height, tile: size)  // too small: before any work
        if masks == "donors" && identity != nil {
            throw IMNError.invalidImage("identity presets belong to Mask-net (masks: \"masknet\"); donors are chosen with donor:")
        }
        if let k = donor, masks != "donors" || !bundle.donors!.indices.contains(k) {
            throw IMNError.invalidImage(masks == "donors" ? "donor \(k) does not exist; the bundle has 0...\(bundle.donors!.count - 1)"
                                                          : "donor: chooses a donor of Masks v2 (masks: \"donors\")")
        }
        if let i = identity, !bundle.identities.indices.contains(i) {
            throw IMNError.invalidImage("identity preset \(i) does not exist; the bundle has 0...\(bundle.identities.count - 1)")
        }
        progress("detect")
        let all = try findFaces(bundle, rgb)
        let skipped = all.filter { $0.width < minFacePixels }.map {
            "face at (\(Int($0.box[0].rounded())), \(Int($0.box[1].rounded()))) is \(Int($0.width.rounded())) px wide, below \(Int(minFacePixels)) px"
        }
        let faces = all.filter { $0.width >= minFacePixels }
        if faces.isEmpty {
            throw IMNError.noFaceFound("no face to protect in this photo" + (skipped.isEmpty ? "" : " (\(skipped.joined(separator: "; ")))"))
        }
        let transforms = faces.map { Align.cropTransform(landmarks($0), size: size) }
        // Sealed regions are only what is encrypted: whole tiles edge to edge suffice there.
        let margin = secret != nil ? 0 : Tiles.margin
        let regions = try Tiles.merge(transforms.map { Align.blendBox($0, size: size) }, width: rgb.width, height: rgb.height,
                                      tile: size, margin: margin)
        var blended = rgb
        var faceRecords: [[String: Any]] = []
        for (i, face) in faces.enumerated() {
            progress("mask face \(i + 1)/\(faces.count)")
            let crop = Align.alignedCrop(rgb, transforms[i], size: size)
            let chosen = try masks == "donors" ? (donor ?? bundle.chooseDonor(crop)) : (identity ?? i % bundle.identities.count)
            var mask = try masks == "donors" ? bundle.donorMask(crop, donor: chosen)
                                             : bundle.maskFace(crop, identity: bundle.identities[chosen])
            if photo.mode == "L" {  // a grayscale photo gets a grayscale Mask
                let gray = PhotoIO.toGray(mask)
                mask = RGBImage(width: mask.width, height: mask.height, pixels: (0..<(3 * gray.count)).map { gray[$0 / 3] })
            }
            let cx = Double(face.landmarks.map { $0[0] }.reduce(0, +)) / 5, cy = Double(face.landmarks.map { $0[1] }.reduce(0, +)) / 5
            let region = regions.first { $0.contains(cx, cy) }!
            Align.pasteBack(&blended, mask, transforms[i], limit: [region.x0, region.y0, region.x1, region.y1])
            var faceRecord: [String: Any] = ["box": face.box.map(round1), "score": (Double(face.score) * 1e4).rounded() / 1e4,
                                             "landmarks": face.landmarks.map { [round1(Double($0[0])), round1(Double($0[1]))] }]
            faceRecord[masks == "donors" ? "donor" : "identity"] = chosen
            faceRecords.append(faceRecord)
        }
        if let secret = secret {
            return try seal(photo, blended: blended, regions: regions, faceRecords: faceRecords, masks: masks, secret: secret,
                            step: step, faces: faces, skipped: skipped, progress: progress)
        }
        var out = rgb
        for (k, region) in regions.enumerated() {
            progress("hide region \(k + 1)/\(regions.count)")
            for t in try Tiles.tileLayout(region, tile: size, margin: margin) {
                pasteCore(&out, try bundle.hide(rgb.crop(x0: t.x, y0: t.y, w: size, h: size),
                                                blended.crop(x0: t.x, y0: t.y, w: size, h: size)), t)
            }
        }
        let record = Metadata.keylessRecord(width: rgb.width, height: rgb.height, bundle: bundle.describe(), margin: margin,
                                            regions: regions, faces: faceRecords, masks: masks,
                                            digest: Metadata.pixelDigest(out, regions), mode: photo.mode)
        return ProtectedImage(rgb: out, alpha: photo.alpha, record: record, faces: faces, skipped: skipped, notes: photo.notes)
    }

    /// Sealed protect (photo.md §7): the regions' originals packed and encrypted against the
    /// record's exact text; the pixels are `blended` (the photo with each face's Mask blended in,
    /// nothing else).
    static func seal(_ photo: Photo, blended: RGBImage, regions: [Box], faceRecords: [[String: Any]], masks: String,
                     secret: Keys.Secret, step: Int, faces: [Face], skipped: [String],
                     progress: (String) -> Void) throws -> ProtectedImage {
        progress("seal")
        let plaintext = try Seal.pack(photo.rgb, regions: regions, inner: ["faces": faceRecords, "masks": masks], step: step)
        let (entry, keys) = try Seal.newEntry(secret, step: step, bytes: plaintext.count + Seal.tagBytes)
        let record = Metadata.sealedRecord(width: blended.width, height: blended.height, regions: regions,
                                 digest: Metadata.photoDigest(blended, alpha: photo.alpha), entry: entry, mode: photo.mode)
        let text = try Seal.text(record)
        return ProtectedImage(rgb: blended, alpha: photo.alpha, record: record, faces: faces, skipped: skipped, notes: photo.notes,
                              recordText: text, sealed: try Seal.encrypt(keys, entry, plaintext, recordText: text))
    }

    /// Put the Mask off; every check (metadata, bundle, size, digest, key, and for a sealed photo
    /// its `imSd` chunk and GCM tag) before anything is decrypted or revealed. A sealed photo needs
    /// no bundle (`bundle` may be nil): its faces are decrypted, not revealed; a keyless or keyed
    /// one does (`.bundleMismatch` without). A secret given for a keyless photo is refused
    /// (`.wrongKey`): anyone could have made it.
    public static func recover(_ photo: Photo, bundle: IMNBundle?, force: Bool = false, secret: Keys.Secret? = nil,
                               progress: (String) -> Void = { _ in }) throws -> RecoveredImage {
        if !photo.format.isEmpty && photo.format != "PNG" && photo.text[Metadata.chunkKey] == nil {
            throw IMNError.imageModified("this is a \(photo.format) file: a protected photo is a PNG, and re-encoding it (as JPEG, say) destroys the hidden face")
        }
        let record = try Metadata.parseRecord(photo.text)
        if !record.isSealed && bundle == nil {
            throw IMNError.bundleMismatch("this photo is keyless (or keyed by an earlier release): recovering it needs an IMN bundle")
        }
        var notes: [String] = []
        if let bundle = bundle, let recorded = record.bundle { notes = try bundle.checkCanReveal(recorded) }
        let rgb = photo.rgb
        if rgb.width != record.width || rgb.height != record.height {
            throw IMNError.imageModified("the photo is \(rgb.width)x\(rgb.height) but was protected at \(record.width)x\(record.height): " +
                                         "it was resized or cropped, and the hidden faces cannot be recovered")
        }
        let digest = record.isSealed ? Metadata.photoDigest(rgb, alpha: photo.alpha) : Metadata.pixelDigest(rgb, record.regions)
        if digest != record.digest && !force {
            throw IMNError.imageModified("the masked pixels changed after protection (re-encoded, filtered or edited), so the " +
                                         "recovered faces would be damaged; force: true tries anyway")
        }
        if let entry = record.sealed { return try unseal(photo, record: record, entry: entry, secret: secret, progress: progress) }
        guard let bundle = bundle else { throw IMNError.bundleMismatch("this photo is keyless (or keyed by an earlier release): recovering it needs an IMN bundle") }
        let photoKey = try record.key.map { try Keys.openKeyRecord($0, secret) }
        if secret != nil && record.key == nil {
            // Anyone with a bundle can make a keyless photo: one given where a sealed photo was
            // expected may be a substitute, so it is refused, not recovered with a note.
            throw IMNError.wrongKey("this photo is keyless, not sealed: the key does not belong to it, and anyone with an IMN " +
                                    "bundle could have made it; recover it without a key if you trust where it came from")
        }
        let size = bundle.size
        var out = rgb
        let toCrops = record.faces.map { Align.cropTransform($0, size: size) }
        for (k, region) in record.regions.enumerated() {
            progress("reveal region \(k + 1)/\(record.regions.count)")
            for t in try Tiles.tileLayout(region, tile: size, margin: record.margin) {
                let (x, y) = (t.x, t.y)
                let tile = rgb.crop(x0: x, y0: y, w: size, h: size)
                let revealed: RGBImage
                if let photoKey = photoKey, let key = record.key {
                    revealed = try Keys.keyedReveal(bundle.reveal, tile, photoKey: photoKey, scrambles: key.scrambles,
                                                    region: k, x: x, y: y)
                } else {
                    revealed = try bundle.reveal(tile)
                }
                pasteCore(&out, revealed, t)
            }
            let support = Align.blendSupport(toCrops, size: size, box: region)
            let w = untouchedMaskedWeight
            for y in 0..<region.height {
                for x in 0..<region.width where !support[y * region.width + x] {
                    for c in 0..<3 {
                        let i = ((region.y0 + y) * out.width + region.x0 + x) * 3 + c
                        let v: Float = w * Float(rgb.pixels[i]) + (1 - w) * Float(out.pixels[i])
                        out.pixels[i] = UInt8(min(255, max(0, Double(v).rounded(.toNearestOrEven))))
                    }
                }
            }
        }
        return RecoveredImage(rgb: out, alpha: photo.alpha, record: record, notes: notes)
    }

    /// Sealed recover (photo.md §7.4): the chunk's presence and length, the key's check value,
    /// GCM's tag, then the pixels' sizes, each before the next; then each region pasted. The
    /// recovered record carries the faces the plaintext kept out of the clear.
    static func unseal(_ photo: Photo, record: Record, entry: SealedEntry, secret: Keys.Secret?,
                       progress: (String) -> Void) throws -> RecoveredImage {
        guard let ciphertext = photo.chunks[Seal.chunkType] else {
            throw IMNError.imageModified("this sealed photo lost its imSd chunk (an app dropped it when saving): the hidden faces are gone with it")
        }
        if ciphertext.count != entry.bytes {
            throw IMNError.imageModified("this sealed photo's imSd chunk has \(ciphertext.count) bytes, not the \(entry.bytes) it was written with")
        }
        progress("open seal")
        let keys = try Seal.openKeys(entry, secret)
        let plaintext = try Seal.decrypt(keys, entry, ciphertext, recordText: photo.text[Metadata.chunkKey]!)
        let (inner, originals) = try Seal.unpack(plaintext, regions: record.regions, step: entry.step)
        var out = photo.rgb
        for (region, pixels) in zip(record.regions, originals) { out.paste(pixels, x0: region.x0, y0: region.y0) }
        let faces = inner["faces"] as? [Any] ?? []
        var json = record.json
        json["faces"] = faces
        json["masks"] = inner["masks"] ?? NSNull()
        let recovered = Record(width: record.width, height: record.height, bundle: nil, tile: record.tile, margin: 0, regions: record.regions,
                               faces: Metadata.faceLandmarks(faces), digest: record.digest, key: nil, json: json, mode: record.mode,
                               format: record.format, sealed: entry)
        return RecoveredImage(rgb: out, alpha: photo.alpha, record: recovered, notes: [])
    }
}
