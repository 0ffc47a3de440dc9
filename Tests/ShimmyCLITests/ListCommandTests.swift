import Foundation
import ShimmyTestSupport
import Testing

/// Runs the built `shimmy` binary for the `list` and `diag` tests.
struct RegistryCLIProcess {
    var status: Int32
    var stdout: String
    var stderr: String

    /// The binary beside this test bundle (whatever scratch path built it), else `TestPaths.shimmyBinary`.
    static var binary: String {
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
            // the test runner may sit inside a bundle folder
            for _ in 0..<4 {
                let candidate = dir.appendingPathComponent("shimmy").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                dir = dir.deletingLastPathComponent()
            }
        }
        return TestPaths.shimmyBinary
    }

    /// Runs `shimmy arguments…` in `directory` with `environment` added to a clean HOME-only environment.
    static func run(_ arguments: [String], environment: [String: String], directory: URL) throws -> RegistryCLIProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ["PATH": "/usr/bin:/bin"]
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return RegistryCLIProcess(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                                  stderr: String(decoding: errData, as: UTF8.self))
    }

    /// A temporary folder with a `home/` (empty, so no real Hugging Face or Ollama models show up) and the given
    /// fake GGUF files (relative path → size).
    static func sandbox(files: [String: Int]) throws -> URL {
        let root = try TestPaths.temporaryDirectory()
        try FileManager.default.createDirectory(at: root.appendingPathComponent("home"),
                                                withIntermediateDirectories: true)
        for (relative, size) in files {
            let url = root.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            var data = Data("GGUF".utf8)
            data.append(Data(repeating: 1, count: max(0, size - 4)))
            try data.write(to: url)
        }
        return root
    }
}

@Suite("shimmy list")
struct ListCommandTests {
    @Test("--json lists the models of SHIMMY_MODEL_PATHS, the Ollama store and the searched folders")
    func json() throws {
        let root = try RegistryCLIProcess.sandbox(files: [
            "extra/alpha.gguf": 1234, "extra/sub/beta.gguf": 10, "ollama/blobs/sha256-\(String(repeating: "e", count: 64))": 99,
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let manifest = root.appendingPathComponent("ollama/manifests/h.invalid/library/gamma/latest")
        try FileManager.default.createDirectory(at: manifest.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("""
            {"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:\(String(repeating: "e", count: 64))"}]}
            """.utf8).write(to: manifest)
        let extra = root.appendingPathComponent("extra").path
        let result = try RegistryCLIProcess.run(
            ["list", "--json"],
            environment: ["HOME": root.appendingPathComponent("home").path, "SHIMMY_MODEL_PATHS": extra,
                          "OLLAMA_MODELS": root.appendingPathComponent("ollama").path],
            directory: root)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let models = object?["models"] as? [[String: Any]] ?? []
        let byName = Dictionary(models.compactMap { m in (m["name"] as? String).map { ($0, m) } }) { a, _ in a }
        #expect(byName["alpha"]?["size_bytes"] as? Int == 1234, "stdout: \(result.stdout)")
        #expect(byName["alpha"]?["path"] as? String == extra + "/alpha.gguf")
        #expect(byName["beta"] != nil)
        #expect(byName["gamma:latest"]?["size_bytes"] as? Int == 99, "stdout: \(result.stdout)")
        let folders = object?["searched_folders"] as? [String] ?? []
        #expect(folders.first == extra, "folders: \(folders)")
        #expect(folders.contains(root.appendingPathComponent("ollama").path))
        #expect(folders.contains(root.appendingPathComponent("models").path), "./models is searched")
        // exactly one model is the default, and it comes first
        let defaults = models.filter { $0["default"] as? Bool == true }
        #expect(defaults.count == 1)
        #expect(models.first?["default"] as? Bool == true)
    }

    @Test("the text table shows name, size and path")
    func table() throws {
        let root = try RegistryCLIProcess.sandbox(files: ["m/alpha.gguf": 2_500_000])
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("m").path
        let result = try RegistryCLIProcess.run(
            ["list"], environment: ["HOME": root.appendingPathComponent("home").path, "SHIMMY_MODEL_PATHS": folder],
            directory: root)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("NAME") == true, "stdout: \(result.stdout)")
        let alpha = lines.first { $0.hasPrefix("alpha") }
        #expect(alpha?.contains("2.5 MB") == true, "line: \(alpha ?? "none")")
        #expect(alpha?.hasSuffix(folder + "/alpha.gguf") == true, "line: \(alpha ?? "none")")
    }

    @Test("a relative model folder is found from the working directory")
    func relativeModelsFolder() throws {
        let root = try RegistryCLIProcess.sandbox(files: ["models/local-one.gguf": 50])
        defer { try? FileManager.default.removeItem(at: root) }
        let result = try RegistryCLIProcess.run(
            ["list"], environment: ["HOME": root.appendingPathComponent("home").path], directory: root)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("local-one"), "stdout: \(result.stdout)")
    }
}
