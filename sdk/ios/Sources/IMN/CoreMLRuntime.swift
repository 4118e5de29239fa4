import CoreML
import Foundation

/// The bundle's `.mlpackage` graphs on Core ML: compiled once per file, called with the
/// manifest's input and output names. All shapes are static (tiles, PNet's window, one box).
public final class CoreMLRuntime: GraphRuntime {
    let configuration: MLModelConfiguration

    public init(computeUnits: MLComputeUnits = .all) {
        configuration = MLModelConfiguration()
        configuration.computeUnits = computeUnits
    }

    public func open(_ url: URL, inputs: [String], outputs: [String]) throws -> Graph {
        let compiled = try MLModel.compileModel(at: url)
        return CoreMLGraph(model: try MLModel(contentsOf: compiled, configuration: configuration), inputs: inputs, outputs: outputs)
    }
}

struct CoreMLGraph: Graph {
    let model: MLModel
    let inputs: [String]
    let outputs: [String]

    func run(_ tensors: [Tensor]) throws -> [Tensor] {
        var features: [String: MLFeatureValue] = [:]
        for (name, tensor) in zip(inputs, tensors) {
            let array = try MLMultiArray(shape: tensor.shape.map { NSNumber(value: $0) }, dataType: .float32)
            let pointer = array.dataPointer.bindMemory(to: Float.self, capacity: tensor.data.count)
            let strides = array.strides.map { $0.intValue }
            copy(tensor.data, shape: tensor.shape) { index, value in pointer[zip(index, strides).map(*).reduce(0, +)] = value }
            features[name] = MLFeatureValue(multiArray: array)
        }
        let result = try model.prediction(from: MLDictionaryFeatureProvider(dictionary: features))
        return try outputs.map { name in
            guard let array = result.featureValue(for: name)?.multiArrayValue else {
                throw IMNError.bundleMismatch("the Core ML graph has no output \(name)")
            }
            let shape = array.shape.map { $0.intValue }, strides = array.strides.map { $0.intValue }
            var data = [Float](repeating: 0, count: shape.reduce(1, *))
            var flat = 0
            forEachIndex(shape) { index in
                let offset = zip(index, strides).map(*).reduce(0, +)
                switch array.dataType {
                case .float32: data[flat] = array.dataPointer.bindMemory(to: Float.self, capacity: offset + 1)[offset]
                case .float16: data[flat] = Float(array.dataPointer.bindMemory(to: Float16.self, capacity: offset + 1)[offset])
                case .double: data[flat] = Float(array.dataPointer.bindMemory(to: Double.self, capacity: offset + 1)[offset])
                default: data[flat] = array[offset].floatValue
                }
                flat += 1
            }
            return Tensor(shape: shape, data: data)
        }
    }

    private func copy(_ data: [Float], shape: [Int], _ write: ([Int], Float) -> Void) {
        var flat = 0
        forEachIndex(shape) { index in write(index, data[flat]); flat += 1 }
    }

    /// Visits every multi-index of `shape` in row-major order (Core ML arrays may be strided).
    private func forEachIndex(_ shape: [Int], _ body: ([Int]) -> Void) {
        guard shape.allSatisfy({ $0 > 0 }) else { return }
        var index = [Int](repeating: 0, count: shape.count)
        while true {
            body(index)
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }
}
