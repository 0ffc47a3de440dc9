import Foundation
import GGUF
import Shimmy
import ShimmyTestSupport
import Synchronization

/// The default model and its variants made by `ModelQuantizer` (as `shimmy quantize` makes them), created once per
/// test process in a temporary folder, and loaded models shared between tests.
enum ReferenceVariants {
    static let names = ["Q4_1", "Q4_0", "Q8_0", "F16", "F32"]
    private static let state = Mutex<(folder: URL?, models: [String: LlamaModel])>((nil, [:]))

    /// A loaded model for a variant name (`Q4_1` is the default model itself).
    static func model(_ variant: String, contextLength: Int = 2048) throws -> LlamaModel {
        try state.withLock { state in
            let key = "\(variant)/\(contextLength)"
            if let model = state.models[key] { return model }
            let path: String
            if variant == "Q4_1" {
                path = TestPaths.defaultModel
            } else {
                let folder = try state.folder ?? TestPaths.temporaryDirectory()
                state.folder = folder
                path = folder.appendingPathComponent("SmolLM2-135M-Instruct.\(variant).gguf").path
                if !FileManager.default.fileExists(atPath: path) {
                    guard let type = GGMLType(name: variant) else { throw ShimmyError(.invalidRequest, variant) }
                    try ModelQuantizer.quantize(input: TestPaths.defaultModel, output: path, type: type)
                }
            }
            let model = try LlamaModel.load(path: path, options: ModelOptions(contextLength: contextLength))
            state.models[key] = model
            return model
        }
    }
}

/// Reads a JSON file of `../shared/reference`.
func referenceJSON(_ name: String) throws -> [String: Any] {
    let data = try Data(contentsOf: TestPaths.reference(name))
    guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw ShimmyError(.invalidRequest, "\(name) is not a JSON object")
    }
    return object
}

/// Index of the largest value (ties: the lowest index), as greedy sampling picks.
func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}
