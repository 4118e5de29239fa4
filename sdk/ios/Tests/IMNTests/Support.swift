import Foundation
@testable import IMN

/// Where the tests find their inputs: the golden vectors in sdk/golden always; a Core ML bundle
/// and cases made by the Python SDK when IMN_TEST_BUNDLE and IMN_TEST_CASES are set (README.md).
enum TestEnv {
    static let golden = URL(fileURLWithPath: ProcessInfo.processInfo.environment["IMN_GOLDEN"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../golden").standardized.path)
    static let bundle = ProcessInfo.processInfo.environment["IMN_TEST_BUNDLE"].map { URL(fileURLWithPath: $0) }
    /// The shipped models (the donor bank of Masks v2).
    static let models = URL(fileURLWithPath: ProcessInfo.processInfo.environment["IMN_MODELS"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../../models").standardized.path)
    static let cases = ProcessInfo.processInfo.environment["IMN_TEST_CASES"].map { URL(fileURLWithPath: $0) }

    static func golden(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: golden.appendingPathComponent("\(name).json"))) as! [String: Any]
    }

    /// frac(sin(i · 12.9898 + seed) · 43758.5453), as golden.py's _pattern.
    static func pattern(_ count: Int, seed: Double) -> [Float] {
        (0..<count).map { i in let v = sin(Double(i) * 12.9898 + seed) * 43758.5453; return Float(v - floor(v)) }
    }

    static func patternImage(height: Int, width: Int, seed: Double) -> RGBImage {
        RGBImage(width: width, height: height, pixels: pattern(height * width * 3, seed: seed).map { UInt8(min(floor(Double($0) * 256), 255)) })
    }

    /// A nested JSON array flattened in row-major order.
    static func flat(_ value: Any?) -> [Double] {
        if let array = value as? [Any] { return array.flatMap { flat($0) } }
        return [(value as! NSNumber).doubleValue]
    }
}
