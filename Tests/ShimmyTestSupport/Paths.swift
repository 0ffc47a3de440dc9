import Foundation

/// Where the test data lives: the repository, the default model, and `../shared/reference`.
public enum TestPaths {
    /// The repository root (found from this file's path).
    public static let repositoryRoot: URL = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }()
    /// The default model that `scripts/setup.sh` installs.
    public static var defaultModel: String {
        let env = ProcessInfo.processInfo.environment["SHIMMY_MODELS_DIR"]
        let dir = env ?? repositoryRoot.appendingPathComponent("models").path
        return dir + "/SmolLM2-135M-Instruct.Q4_1.gguf"
    }
    /// `../shared` beside the repository.
    public static var shared: URL { repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared") }
    /// A file in `../shared/reference`.
    public static func reference(_ name: String) -> URL {
        shared.appendingPathComponent("reference").appendingPathComponent(name)
    }
    /// The built `shimmy` binary for CLI tests (release build made by scripts/test.sh, else debug).
    public static var shimmyBinary: String {
        let fm = FileManager.default
        for config in ["release", "debug"] {
            let p = repositoryRoot.appendingPathComponent(".build/\(config)/shimmy").path
            if fm.isExecutableFile(atPath: p) { return p }
        }
        return repositoryRoot.appendingPathComponent(".build/release/shimmy").path
    }
    /// A fresh temporary directory, removed with its contents when the test process exits (the reference variants
    /// alone are ~1 GB per run: repeated runs had filled the disk).
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("shimmy-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        TemporaryDirectories.shared.add(url)
        return url
    }
}

/// The directories `TestPaths.temporaryDirectory` made in this process, removed at exit.
final class TemporaryDirectories: @unchecked Sendable {
    static let shared = TemporaryDirectories()
    private let lock = NSLock()
    private var urls: [URL] = []

    private init() {
        atexit { TemporaryDirectories.shared.removeAll() }
    }

    func add(_ url: URL) {
        lock.withLock { urls.append(url) }
    }

    func removeAll() {
        let all = lock.withLock { () -> [URL] in
            defer { urls = [] }
            return urls
        }
        for url in all { try? FileManager.default.removeItem(at: url) }
    }
}
