import Foundation

/// A model file the registry found.
public struct ModelDescriptor: Sendable, Equatable {
    /// The name clients use: the file name without `.gguf`, or `name:tag` for Ollama's store.
    public var name: String
    /// Where the GGUF file lives.
    public var path: String
    /// File size in bytes.
    public var sizeBytes: Int64
    /// Last modification of the file.
    public var modified: Date?
    public init(name: String, path: String, sizeBytes: Int64, modified: Date? = nil) {
        self.name = name
        self.path = path
        self.sizeBytes = sizeBytes
        self.modified = modified
    }
}

extension ModelDescriptor {
    /// `bytes` in decimal units, like Ollama: `91 MB`, `4.7 GB` (`shimmy list`, `/api/models`, `shimmy diag`).
    public static func sizeText(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        return value < 10 ? String(format: "%.1f %@", value, units[unit]) : "\(Int(value.rounded())) \(units[unit])"
    }
}

/// What the server and CLI need from a set of models: what exists, and a session for one of them.
/// `ModelRegistry` is the real one; tests use a scripted catalog.
public protocol ModelCatalog: Sendable {
    /// Every model that can be loaded, the default one first.
    func availableModels() -> [ModelDescriptor]
    /// A session on the named model, loading it once if needed. `nil` or `"default"` means the default model.
    /// Throws `ShimmyError` `.modelNotFound` for an unknown name, `.serverError` for a file that fails to load.
    func session(named name: String?) async throws -> any InferenceSession
    /// The names of the models resident now.
    func loadedModelNames() async -> [String]
}

extension ModelCatalog {
    /// How many models are resident now.
    public func loadedModelCount() async -> Int { await loadedModelNames().count }
}
