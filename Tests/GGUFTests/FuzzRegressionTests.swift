import Foundation
import Testing
import GGUF
import ShimmyTestSupport

/// The GGUF fuzz target's seed corpus and every input a fuzzer ever crashed on (`Fuzz/corpus/gguf`,
/// `Fuzz/regressions/gguf`), fed to the reader: each must parse or throw a `GGUFError`, never trap.
@Suite("GGUF fuzz corpus and regressions")
struct GGUFFuzzRegressionTests {
    static func files(_ folder: String) -> [String] {
        let url = TestPaths.repositoryRoot.appendingPathComponent("Fuzz/\(folder)/gguf")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { url.appendingPathComponent($0).path }
    }

    static func parse(_ path: String) throws -> Result<GGUFFile, GGUFError> {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, data.count), alignment: 64)
        defer { bytes.deallocate() }
        data.copyBytes(to: bytes)
        do {
            let file = try GGUFFile(bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<data.count]))
            // what a loader touches next: every tensor's bytes must lie inside the buffer
            for info in file.tensors {
                let tensor = file.tensorData(info)
                if let base = tensor.baseAddress, let start = bytes.baseAddress {
                    #expect(base >= UnsafeRawPointer(start) && base + tensor.count <= UnsafeRawPointer(start) + data.count,
                            "\(path): tensor \(info.name) points outside the file")
                }
            }
            return .success(file)
        } catch {
            return .failure(error)
        }
    }

    @Test("the seed corpus is present and every seed is a valid GGUF file")
    func seedsParse() throws {
        let seeds = Self.files("corpus")
        #expect(seeds.count >= 5, "expected the committed seeds in Fuzz/corpus/gguf, found \(seeds.count)")
        for path in seeds {
            if case .failure(let error) = try Self.parse(path) {
                Issue.record("seed \(path) was rejected: \(error)")
            }
        }
    }

    @Test("regression inputs parse or throw, never trap")
    func regressions() throws {
        for path in Self.files("regressions") {
            // reaching the next line at all is the check; a trap would end the test process
            let outcome = try Self.parse(path)
            if case .failure(let error) = outcome { #expect(!error.description.isEmpty, "\(path)") }
        }
    }
}
