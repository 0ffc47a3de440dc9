import Foundation
import GGUF
import Shimmy
import ShimmyTestSupport
import Testing

/// One variant of `../shared/reference/quantized-tensors.json`: what llama-quantize --pure wrote.
struct QuantizedVariant {
    struct Tensor {
        let type: String
        let shape: [Int]
        let sha256: String
        /// Absolute file offset of the data.
        let dataOffset: Int
    }
    let fileSHA256: String
    let fileType: Int
    let tensorOrder: [String]
    let tensors: [String: Tensor]

    static func load(_ name: String) throws -> QuantizedVariant {
        let data = try Data(contentsOf: TestPaths.reference("quantized-tensors.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let variants = try #require(root["variants"] as? [String: Any])
        let v = try #require(variants[name] as? [String: Any], "no variant \(name)")
        var tensors: [String: Tensor] = [:]
        for (key, value) in try #require(v["tensors"] as? [String: Any]) {
            let t = try #require(value as? [String: Any])
            tensors[key] = Tensor(type: try #require(t["type"] as? String), shape: try #require(t["shape"] as? [Int]),
                                  sha256: try #require(t["sha256"] as? String),
                                  dataOffset: try #require(t["data_offset"] as? Int))
        }
        return QuantizedVariant(fileSHA256: try #require(v["file_sha256"] as? String),
                                fileType: try #require(v["general.file_type"] as? Int),
                                tensorOrder: try #require(v["tensor_order"] as? [String]), tensors: tensors)
    }
}

/// The lowercase hex SHA-256 of a whole file, read in chunks.
func fileSHA256(_ path: String) throws -> String {
    let handle = try #require(FileHandle(forReadingAtPath: path))
    defer { try? handle.close() }
    var hash = SHA256()
    while let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty {
        chunk.withUnsafeBytes { hash.update($0) }
    }
    return hash.finalize()
}

@Suite("ModelQuantizer", .serialized)
struct ModelQuantizerTests {
    @Test("quantizing the default model gives llama-quantize --pure's tensors byte for byte",
          arguments: ["Q4_0", "Q8_0", "F16", "F32"])
    func matchesLlamaQuantize(typeName: String) throws {
        let reference = try QuantizedVariant.load(typeName)
        let directory = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.\(typeName).gguf").path
        let type = try ModelQuantizer.parseType(typeName)
        var calls = 0
        try ModelQuantizer.quantize(input: TestPaths.defaultModel, output: output, type: type) { done, total, _ in
            calls += 1
            #expect(done == calls && total == reference.tensorOrder.count, "progress \(done)/\(total) at call \(calls)")
        }
        #expect(calls == reference.tensorOrder.count, "progress called \(calls) times")

        let file = try GGUFFile(contentsOf: output)
        #expect(file.tensors.map(\.name) == reference.tensorOrder, "tensor order differs from llama-quantize's")
        #expect(file["general.file_type"]?.intValue == reference.fileType,
                "general.file_type \(String(describing: file["general.file_type"])) != \(reference.fileType)")
        #expect(file["general.quantization_version"]?.intValue == 2)
        #expect(file.tensors.count == reference.tensors.count, "\(file.tensors.count) tensors, reference has \(reference.tensors.count)")
        var layout: [String] = []
        for info in file.tensors {
            guard let want = reference.tensors[info.name] else { layout.append("\(info.name): not in reference"); continue }
            if info.type.name != want.type || info.dimensions != want.shape || file.dataOffset + info.offset != want.dataOffset {
                layout.append("\(info.name): \(info.type) \(info.dimensions) @\(file.dataOffset + info.offset) vs \(want.type) \(want.shape) @\(want.dataOffset)")
            }
        }
        #expect(layout.isEmpty, "\(layout.count) tensors differ in type, shape or place, first: \(layout.prefix(3))")

        // Metadata order, alignment and padding follow llama.cpp too, so the whole file is identical; with the
        // tensor places equal that proves every tensor's bytes equal. Only when the file differs are the
        // tensors hashed one by one, to say which differ.
        let whole = try fileSHA256(output)
        #expect(whole == reference.fileSHA256, "file sha256 \(whole) != \(reference.fileSHA256)")
        guard whole != reference.fileSHA256 else { return }
        var mismatches: [String] = []
        for info in file.tensors {
            let got = SHA256.hex(of: file.tensorData(info))
            if got != reference.tensors[info.name]?.sha256 { mismatches.append("\(info.name) \(got.prefix(12))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) tensors' bytes differ, first: \(mismatches.prefix(3))")
    }

    @Test("Q4_1 keeps Q4_1 weights byte for byte and requantizes the Q8_0 embedding")
    func q4_1() throws {
        let source = try QuantizedVariant.load("Q4_1")
        let directory = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.Q4_1.gguf").path
        try ModelQuantizer.quantize(input: TestPaths.defaultModel, output: output, type: .q4_1)
        let file = try GGUFFile(contentsOf: output)
        #expect(file["general.file_type"]?.intValue == 3)
        var changed: [String] = []
        for info in file.tensors {
            let want = try #require(source.tensors[info.name])
            if SHA256.hex(of: file.tensorData(info)) != want.sha256 { changed.append(info.name) }
            #expect(info.type == (info.dimensions.count == 1 ? .f32 : .q4_1), "\(info.name) is \(info.type)")
        }
        #expect(changed == ["token_embd.weight"], "changed tensors: \(changed.prefix(5))")
    }

    @Test("a bad type, a missing input, a non-GGUF input and unwritable outputs fail with clear errors and no output")
    func errors() throws {
        let directory = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.gguf").path

        #expect(throws: ShimmyError.self) { try ModelQuantizer.parseType("q5_k") }
        do {
            _ = try ModelQuantizer.parseType("q5_k")
        } catch {
            #expect(error.code == .invalidRequest)
            #expect(error.description.contains("Q4_0") && error.description.contains("F32"), "\(error)")
        }
        #expect(try ModelQuantizer.parseType("q8_0") == .q8_0)
        #expect(try ModelQuantizer.parseType("F16") == .f16)

        func failure(_ input: String, _ output: String, _ type: GGMLType = .q8_0) -> ShimmyError? {
            do {
                try ModelQuantizer.quantize(input: input, output: output, type: type)
                return nil
            } catch let error as ShimmyError {
                return error
            } catch {
                return ShimmyError(.serverError, "unexpected error type: \(error)")
            }
        }
        let missing = failure(directory.appendingPathComponent("nope.gguf").path, output)
        #expect(missing?.code == .modelNotFound, "\(String(describing: missing))")

        let text = directory.appendingPathComponent("text.gguf")
        try Data("not a model".utf8).write(to: text)
        let notGGUF = failure(text.path, output)
        #expect(notGGUF?.code == .invalidRequest, "\(String(describing: notGGUF))")

        let noDirectory = failure(TestPaths.defaultModel, directory.appendingPathComponent("no/such/dir/out.gguf").path)
        #expect(noDirectory?.code == .invalidRequest && noDirectory?.message.contains("directory") == true,
                "\(String(describing: noDirectory))")

        let sameFile = failure(TestPaths.defaultModel, TestPaths.defaultModel)
        #expect(sameFile?.code == .invalidRequest, "\(String(describing: sameFile))")

        let isDirectory = failure(TestPaths.defaultModel, directory.path)
        #expect(isDirectory?.code == .invalidRequest, "\(String(describing: isDirectory))")

        #if os(Linux)
        // /proc passes the early checks (even for root) but refuses new files: the writer's failure path.
        let proc = failure(TestPaths.defaultModel, "/proc/shimmy-quantize-test.gguf")
        #expect(proc?.code == .invalidRequest, "\(String(describing: proc))")
        #expect(!FileManager.default.fileExists(atPath: "/proc/shimmy-quantize-test.gguf"))
        #endif

        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0 != "text.gguf" }
        #expect(left.isEmpty, "files left behind: \(left)")
    }
}
