import Foundation
import GGUF
import Tensors

/// Converts a GGUF model's weights to another tensor type, like `llama-quantize --allow-requantize --pure`.
///
/// Every 2-D weight becomes the target type (dequantized to f32 from its source type first, then
/// quantized with ggml's reference algorithm); norms and other 1-D tensors are copied unchanged. Metadata
/// is copied with `general.quantization_version` and `general.file_type` set, tensors are written in
/// llama.cpp's order, and for Q4_0, Q8_0, F16 and F32 the tensor bytes equal llama-quantize's.
///
/// ```swift
/// try ModelQuantizer.quantize(input: "models/SmolLM2-135M-Instruct.Q4_1.gguf",
///                             output: "/tmp/smollm2.q8_0.gguf", type: .q8_0) { done, total, name in
///     print("[\(done)/\(total)] \(name)")
/// }
/// ```
public enum ModelQuantizer {
    /// The target types `quantize` accepts.
    public static let supportedTypes: [GGMLType] = [.q4_0, .q4_1, .q8_0, .f16, .bf16, .f32]

    /// `GGML_QNT_VERSION`, written as `general.quantization_version`.
    static let quantizationVersion: UInt32 = 2

    /// Parses a target type name case-insensitively (`q4_0`, `Q8_0`, `f16`), or throws an
    /// `invalid_request` error that lists the valid names.
    public static func parseType(_ name: String) throws(ShimmyError) -> GGMLType {
        guard let type = GGMLType(name: name), supportedTypes.contains(type) else {
            throw ShimmyError(.invalidRequest, "unknown quantization type '\(name)'",
                              details: "valid types: \(supportedTypes.map(\.name).joined(separator: ", "))")
        }
        return type
    }

    /// Reads `input`, converts its weights to `type` and writes `output` (through a temporary file that
    /// is renamed into place, so a failure never leaves a partial `output`).
    ///
    /// `progress(done, total, tensorName)` is called after each tensor is written.
    /// Throws `ShimmyError`: `invalid_request` for an unsupported type, an input that is not a GGUF model
    /// or an output that cannot be written; `model_not_found` for a missing input.
    public static func quantize(input: String, output: String, type: GGMLType,
                                progress: ((Int, Int, String) -> Void)? = nil) throws {
        guard supportedTypes.contains(type) else {
            throw ShimmyError(.invalidRequest, "cannot quantize to \(type.name)",
                              details: "valid types: \(supportedTypes.map(\.name).joined(separator: ", "))")
        }
        let file = try openInput(input)
        try checkOutput(output, input: input)

        var writer = GGUFWriter(alignment: GGUFLimits.defaultAlignment, version: 3)
        for key in file.metadataKeys {
            if let value = file.metadata[key] { writer.set(key, value) }
        }
        // gguf_set_val_* removes a key and appends it again, so these two move to the end.
        writer.remove("general.quantization_version")
        writer.set("general.quantization_version", .uint32(quantizationVersion))
        writer.remove("general.file_type")
        writer.set("general.file_type", .uint32(type.fileType))
        for key in ["split.no", "split.count", "split.tensors.count"] { writer.remove(key) }

        let plan = QuantizePlan(tensors: file.tensors, type: type)
        let total = plan.entries.count
        do {
            for (index, entry) in plan.entries.enumerated() {
                try writer.addTensor(name: entry.source.name, type: entry.target,
                                     dimensions: entry.source.dimensions) { destination in
                    try convert(entry, from: file, into: destination)
                    progress?(index + 1, total, entry.source.name)
                }
            }
            try writer.write(to: output)
        } catch let error as ShimmyError {
            throw error
        } catch let error as GGUFError {
            throw ShimmyError(.invalidRequest, "cannot write output model '\(output)'", details: error.description)
        } catch {
            throw ShimmyError(.serverError, "quantization failed", details: "\(error)")
        }
    }

    /// Opens and validates the input model.
    static func openInput(_ input: String) throws(ShimmyError) -> GGUFFile {
        do {
            return try GGUFFile(contentsOf: input)
        } catch {
            if case .fileNotFound = error {
                throw ShimmyError(.modelNotFound, "input model not found", details: input)
            }
            throw ShimmyError(.invalidRequest, "cannot read input model '\(input)'", details: error.description)
        }
    }

    /// Fails early, before any work, when `output` is the input or its directory cannot be written.
    static func checkOutput(_ output: String, input: String) throws(ShimmyError) {
        guard !output.isEmpty else { throw ShimmyError(.invalidRequest, "output path is empty") }
        let outputURL = URL(fileURLWithPath: output).standardizedFileURL.resolvingSymlinksInPath()
        let inputURL = URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath()
        if outputURL.path == inputURL.path {
            throw ShimmyError(.invalidRequest, "output would overwrite the input model", details: output)
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ShimmyError(.invalidRequest, "output path is a directory", details: output)
        }
        let directory = outputURL.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ShimmyError(.invalidRequest, "output directory does not exist", details: directory)
        }
        guard access(directory, W_OK) == 0 else {
            throw ShimmyError(.invalidRequest, "output directory is not writable", details: directory)
        }
    }

    /// Writes one tensor's bytes: a copy when the type is unchanged, else row by row dequantize → quantize.
    static func convert(_ entry: QuantizePlan.Entry, from file: GGUFFile,
                        into destination: UnsafeMutableRawBufferPointer) throws(ShimmyError) {
        let info = entry.source
        let source = file.tensorData(info)
        guard let src = source.baseAddress, source.count == info.byteCount, info.byteCount > 0,
              let dst = destination.baseAddress else {
            throw ShimmyError(.invalidRequest, "tensor '\(info.name)' has no data in the input model")
        }
        guard entry.converts else {
            dst.copyMemory(from: src, byteCount: min(source.count, destination.count))
            return
        }
        let n = info.rowLength
        guard let sourceRow = info.type.rowSize(n), let targetRow = entry.target.rowSize(n),
              let quantize = entry.target.traits.quantizeRow,
              targetRow * info.rowCount == destination.count else {
            throw ShimmyError(.invalidRequest, "cannot convert tensor '\(info.name)' from \(info.type) to \(entry.target)")
        }
        let dequantize = info.type.traits.dequantizeRow
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { scratch.deallocate() }
        for row in 0..<info.rowCount {
            dequantize(src + row * sourceRow, scratch, n)
            quantize(scratch, dst + row * targetRow, n)
        }
    }
}
