import CryptoKit
import Foundation

/// Opens a bundle's graph files: Core ML here (`CoreMLRuntime`); tests may plug in another.
public protocol GraphRuntime {
    func open(_ url: URL, inputs: [String], outputs: [String]) throws -> Graph
}

/// A bundle written by `imn-export` (sdk/spec/bundle.md): hide and reveal of one target and
/// precision, the detector graphs, the donor bank of Masks v2 (decoded by `codec`) and, where
/// exported, Mask-net with its identity presets.
public final class IMNBundle {
    public static let pipelineGraphs = ["hide", "reveal"]
    public static let maskGenerators = ["donors", "masknet"]  // Masks v2 (the default) and the paper's Mask-net

    public let folder: URL
    public let target: String
    public let precision: String
    public let manifest: [String: Any]
    public let size: Int
    public let identities: [[Float]]
    /// Masks v2's donors; nil without a bank in the bundle or without a codec to decode it.
    public let donors: [Masks.Donor]?
    /// Each donor's identity vector (unit rows), when the bundle can embed faces to compare.
    public let donorIdentities: [[Float]]?
    let donorCandidates: Int
    // Apparent sex (a linear classifier on the unit identity vector), so a face gets a donor of its
    // own: the farthest donors by identity are mostly of the other sex (models/imn-donors.md).
    let sexWeights: [Float]?, sexBias: Float, donorMale: [Bool]?
    public static let donorCandidates = 8  // the Python SDK's DONOR_CANDIDATES, and its reasons
    public let detector: [String: Graph]
    let entries: [String: [String: Any]]
    let graphs: [String: Graph]

    public init(folder: URL, runtime: GraphRuntime, target: String = "coreml", precision: String = "fp32",
                codec: PhotoCodec? = nil) throws {
        self.folder = folder
        self.target = target
        self.precision = precision
        let manifestURL = folder.appendingPathComponent("manifest.json")
        guard let data = try? Data(contentsOf: manifestURL),
              let manifest = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw IMNError.bundleMismatch("\(folder.path) is not an IMN bundle (no manifest.json); make one with imn-export --target \(target)")
        }
        self.manifest = manifest
        let artifacts = (manifest["artifacts"] as? [[String: Any]]) ?? []
        var found: [String: [String: Any]] = [:]
        for e in artifacts where e["target"] as? String == target && e["precision"] as? String == precision {
            if let graph = e["graph"] as? String { found[graph] = e }
        }
        let missing = Self.pipelineGraphs.filter { found[$0] == nil }
        if !missing.isEmpty {
            let have = Set(artifacts.map { "\($0["target"] ?? "") \($0["precision"] ?? "")" }).sorted()
            throw IMNError.bundleMismatch("\(folder.path) has no \(missing.joined(separator: ", ")) artifact for \(target) \(precision); it has \(have.joined(separator: ", "))")
        }
        guard let detectorEntry = manifest["detector"] as? [String: Any] else {
            throw IMNError.bundleMismatch("\(folder.path) lacks the face detector; export it with a \(target) target")
        }
        let identitiesFile = (manifest["identities"] as? [String: Any])?["file"] as? String
        let donorIdentity = (manifest["donors"] as? [String: Any])?["identity"] as? [String: Any]
        let graphNames = (found["masknet"] != nil && identitiesFile != nil ? ["masknet"] : [])
            + (found["identity"] != nil && donorIdentity != nil ? ["identity"] : []) + Self.pipelineGraphs
        entries = found.filter { graphNames.contains($0.key) }
        let sizes = Set(graphNames.filter { $0 != "identity" }.compactMap { found[$0]?["size"] as? Int })
        guard sizes.count == 1, let size = sizes.first else { throw IMNError.bundleMismatch("\(graphNames.joined(separator: ", ")) differ in size") }
        self.size = size
        let aux = ((manifest["model"] as? [String: Any])?["aux"] as? [String: Any])?["kind"] as? String ?? "zeros"
        if aux != "zeros" { throw IMNError.bundleMismatch("aux kind '\(aux)': the SDK reveals with aux = 0 only") }
        var opened: [String: Graph] = [:]
        for name in graphNames {
            let e = found[name]!
            opened[name] = try runtime.open(folder.appendingPathComponent(e["file"] as! String),
                                            inputs: (e["inputs"] as! [[String: Any]]).map { $0["name"] as! String },
                                            outputs: (e["outputs"] as! [[String: Any]]).map { $0["name"] as! String })
        }
        graphs = opened
        guard let staticEntry = detectorEntry["static"] as? [String: Any], let window = staticEntry["pnet_window"] as? Int,
              let staticGraphs = (staticEntry["targets"] as? [String: Any])?[target] as? [String: [String: Any]] else {
            throw IMNError.bundleMismatch("\(folder.path) has no static detector graphs for \(target); re-export it with this imn-export")
        }
        func open(_ name: String) throws -> Graph {
            let g = staticGraphs[name]!
            return try runtime.open(folder.appendingPathComponent(g["file"] as! String), inputs: g["inputs"] as! [String],
                                    outputs: g["outputs"] as! [String])
        }
        detector = ["pnet": WindowedPNet(try open("pnet"), window: window), "rnet": OneByOne(try open("rnet")),
                    "onet": OneByOne(try open("onet"))]
        identities = try graphNames.contains("masknet") ? Self.readNpyMatrix(folder.appendingPathComponent(identitiesFile!)) : []
        if let entry = manifest["donors"] as? [String: Any], let codec = codec {
            donors = try Self.loadDonors(folder, entry, size: size, codec: codec)
        } else {
            donors = nil
        }
        if donors != nil, graphNames.contains("identity"), let vectors = donorIdentity?["vectors"] as? [[NSNumber]] {
            donorIdentities = vectors.map { $0.map { $0.floatValue } }
        } else {
            donorIdentities = nil
        }
        donorCandidates = donorIdentity?["farthest"] as? Int ?? Self.donorCandidates
        if donorIdentities != nil, let sex = donorIdentity?["sex"] as? [String: Any],
           let weights = sex["weights"] as? [NSNumber], let male = sex["donor_male"] as? [Bool] {
            sexWeights = weights.map { $0.floatValue }
            sexBias = (sex["bias"] as? NSNumber)?.floatValue ?? 0
            donorMale = male
        } else {
            sexWeights = nil
            sexBias = 0
            donorMale = nil
        }
    }

    /// Masks v2's draw for an aligned face (sdk/spec/photo.md §3): one of the manifest's `farthest`
    /// (8) donors least like it by identity (cosine), uniformly from the system's CSPRNG; without
    /// an identity graph, any donor uniformly.
    public func chooseDonor(_ face: RGBImage) throws -> Int {
        try require("donors")
        guard let vectors = donorIdentities else { return Int.random(in: 0..<donors!.count) }
        let v = try identity(face)
        let norm = max(v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(), 1e-12)
        var pool = Array(vectors.indices)
        if let weights = sexWeights, let donorMale = donorMale {
            let male = zip(weights, v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } / norm + Double(sexBias) > 0
            let same = pool.filter { donorMale[$0] == male }
            if same.count >= donorCandidates { pool = same }
        }
        var similarity = [Int: Double]()
        for k in pool { similarity[k] = zip(vectors[k], v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } / norm }
        // Stable: equal similarities keep index order, as the Python and Kotlin SDKs sort.
        let farthest = pool.sorted { (similarity[$0]!, $0) < (similarity[$1]!, $1) }.prefix(donorCandidates)
        return Array(farthest)[Int.random(in: 0..<farthest.count)]
    }

    /// The identity graph's vector (compare by cosine) of an aligned face, box-resized to its input.
    public func identity(_ face: RGBImage) throws -> [Float] {
        let side = ((entries["identity"]?["inputs"] as? [[String: Any]])?.first?["shape"] as? [Int])?.last ?? 96
        return try graphs["identity"]!.run([Tensor.from(image: Resample.boxResize(face, width: side, height: side))])[0].data
    }

    /// The donor bank, checked against the manifest's SHA-256 and decoded by `codec`.
    static func loadDonors(_ folder: URL, _ entry: [String: Any], size: Int, codec: PhotoCodec) throws -> [Masks.Donor] {
        guard let file = entry["file"] as? String, let count = entry["count"] as? Int, let bankSize = entry["size"] as? Int,
              let box = entry["box"] as? [Int], box.count == 4 else {
            throw IMNError.bundleMismatch("the manifest's donors entry is incomplete")
        }
        let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(file)))
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        if digest != entry["sha256"] as? String { throw IMNError.bundleMismatch("\(file) does not match the manifest's SHA-256: the bundle was altered") }
        if bankSize != size { throw IMNError.bundleMismatch("the donor bank is for \(bankSize)-px crops, the graphs for \(size)") }
        return try Masks.loadBank(codec.decode(bytes).rgb, count: count, size: size, box: box)
    }

    /// The Mask generators this bundle offers: "donors" (Masks v2) and/or "masknet".
    public var availableMaskGenerators: [String] {
        (donors != nil ? ["donors"] : []) + (graphs["masknet"] != nil ? ["masknet"] : [])
    }

    /// Throws unless this bundle can make `generator`'s Masks.
    public func require(_ generator: String) throws {
        guard Self.maskGenerators.contains(generator) else {
            throw IMNError.invalidImage("unknown Mask generator '\(generator)'; choose from \(Self.maskGenerators.joined(separator: ", "))")
        }
        if !availableMaskGenerators.contains(generator) {
            let hint = generator == "donors"
                ? (manifest["donors"] != nil ? "open the bundle with a PhotoCodec to decode its donor bank"
                                             : "export it again with the donor bank (imn-export copies models/donors-256.png)")
                : "export it with Mask-net"
            throw IMNError.bundleMismatch("\(folder.path) has no \(generator) Masks; \(hint)")
        }
    }

    /// What a protected photo records about the bundle that hid it.
    public func describe() -> [String: Any] {
        ["checkpoint_sha256": (manifest["model"] as? [String: Any])?["checkpoint_sha256"] ?? "", "target": target,
         "precision": precision, "tile": size, "hide_sha256": entries["hide"]?["sha256"] ?? "",
         "reveal_sha256": entries["reveal"]?["sha256"] ?? ""]
    }

    /// Throws unless this bundle reveals what `recorded`'s bundle hid (same checkpoint and tile);
    /// a note when another target or precision of it reveals.
    public func checkCanReveal(_ recorded: [String: Any]) throws -> [String] {
        let mine = describe()
        if recorded["checkpoint_sha256"] as? String != mine["checkpoint_sha256"] as? String || recorded["tile"] as? Int != size {
            throw IMNError.bundleMismatch("this photo was protected with another bundle; open it with the bundle that protected it")
        }
        let hid = (recorded["target"] as? String ?? "", recorded["precision"] as? String ?? "")
        if hid == (target, precision) { return [] }
        let caveat = [hid.1, precision].contains("int8") ? " (int8 on one side: up to 3 dB below revealing with the same artifact)" : ""
        return ["hidden with \(hid.0) \(hid.1), revealed with \(target) \(precision)\(caveat)"]
    }

    /// Mask-net's Mask face of an aligned crop and a unit identity vector.
    public func maskFace(_ face: RGBImage, identity: [Float]) throws -> RGBImage {
        try require("masknet")
        return try graphs["masknet"]!.run([Tensor.from(image: face), Tensor(shape: [1, identity.count], data: identity)])[0].toImage()
    }

    /// Masks v2: donor `donor` of the bank over the aligned face crop.
    public func donorMask(_ face: RGBImage, donor: Int) throws -> RGBImage {
        try require("donors")
        guard donors!.indices.contains(donor) else {
            throw IMNError.invalidImage("donor \(donor) does not exist; the bundle has 0...\(donors!.count - 1)")
        }
        return Masks.compose(face, donors![donor])
    }

    public func hide(_ protectedTile: RGBImage, _ maskTile: RGBImage) throws -> RGBImage {
        try graphs["hide"]!.run([Tensor.from(image: protectedTile), Tensor.from(image: maskTile)])[0].toImage()
    }

    public func reveal(_ maskedTile: RGBImage) throws -> RGBImage {
        try graphs["reveal"]!.run([Tensor.from(image: maskedTile), Tensor.zeros([1, 3, size, size])])[0].toImage()
    }

    /// A little-endian float32 `(K, D)` .npy file (`identities.npy`).
    static func readNpyMatrix(_ url: URL) throws -> [[Float]] {
        let bytes = [UInt8](try Data(contentsOf: url))
        guard bytes.count > 10, String(decoding: bytes[1..<6], as: UTF8.self) == "NUMPY" else {
            throw IMNError.bundleMismatch("\(url.path) is not a .npy file")
        }
        let v1 = bytes[6] == 1
        let headerLength = v1 ? Int(bytes[8]) | Int(bytes[9]) << 8 : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        let start = v1 ? 10 : 12
        let header = String(decoding: bytes[start..<start + headerLength], as: UTF8.self)
        guard header.contains("'<f4'"), header.contains("'fortran_order': False"),
              let match = header.range(of: #"\((\d+), (\d+)\)"#, options: .regularExpression) else {
            throw IMNError.bundleMismatch("\(url.path): expected a 2-D little-endian float32 array")
        }
        let dims = header[match].dropFirst().dropLast().split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces))! }
        let body = start + headerLength
        return (0..<dims[0]).map { r in
            (0..<dims[1]).map { c in
                let at = body + 4 * (r * dims[1] + c)
                return Float(bitPattern: UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24)
            }
        }
    }
}
