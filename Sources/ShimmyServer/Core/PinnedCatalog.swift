import Shimmy

/// A catalog that exposes only the models given on the command line (`shimmy serve --model a --model b`),
/// loading them through another catalog's loader. `nil` or `"default"` names the first one.
public final class PinnedCatalog: ModelCatalog, @unchecked Sendable {
    /// Loads a session for a descriptor (the registry's `session(for:)`).
    public typealias Loader = @Sendable (ModelDescriptor) async throws -> any InferenceSession

    public let models: [ModelDescriptor]
    private let loader: Loader
    private let loadedNames: @Sendable () async -> [String]

    public init(models: [ModelDescriptor], loader: @escaping Loader, loadedNames: @escaping @Sendable () async -> [String]) {
        self.models = models
        self.loader = loader
        self.loadedNames = loadedNames
    }

    public func availableModels() -> [ModelDescriptor] { models }

    public func session(named name: String?) async throws -> any InferenceSession {
        try await loader(try descriptor(named: name))
    }

    /// The pinned model a client named: nil, `""` and `"default"` are the first; other names resolve as the
    /// registry's do (`ModelRegistry.match`: exact, `:latest`, `.gguf`, Ollama's full names, any case).
    public func descriptor(named name: String?) throws -> ModelDescriptor {
        let wanted = name ?? ""
        if ModelRegistry.isDefaultAlias(wanted) {
            guard let first = models.first else { throw ShimmyError(.modelNotFound, "No models are served") }
            return first
        }
        if let model = ModelRegistry.match(wanted, in: models) { return model }
        throw ShimmyError(.modelNotFound, "Model '\(wanted)' is not available",
                          details: "served models: \(models.map(\.name).joined(separator: ", "))")
    }

    /// The pinned models that are resident.
    public func loadedModelNames() async -> [String] {
        let names = Set(await loadedNames())
        return models.map(\.name).filter(names.contains)
    }
}
