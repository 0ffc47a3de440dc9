import Foundation

/// The models shimmy can find, and the loaded ones, shared by every session.
///
/// Discovers GGUF files in the folders of `ModelSearchPaths` (plain folders, the Hugging Face cache, Ollama's
/// store), resolves names, and loads each model once: concurrent requests for a model that is loading wait for that
/// one load, and the loaded model stays resident, at most `maxLoadedModels` of them (the least recently used one
/// is let go when another loads; generations still running on it finish first, as they hold it).
///
/// ```swift
/// let session = try await ModelRegistry.standard.load("default")
/// let models = ModelRegistry.standard.availableModels()   // the default model first
/// ```
public final class ModelRegistry: ModelCatalog, @unchecked Sendable {
    /// Turns a model file into a session.
    public typealias Loader = @Sendable (ModelDescriptor, ModelOptions) throws -> any InferenceSession

    /// The registry over the standard folders (see `ModelSearchPaths`), with default options.
    public static let standard = ModelRegistry()

    /// The folders searched, in order, absolute.
    public let searchedFolders: [String]
    /// The options every model is loaded with.
    public let options: ModelOptions
    /// How long a failed load is remembered before the next request tries again, in seconds.
    public var failureRetryInterval: TimeInterval {
        get { lock.withLock { retryInterval } }
        set { lock.withLock { retryInterval = newValue } }
    }
    /// How long a folder scan is reused, in seconds (new files show up after this).
    public var scanLifetime: TimeInterval {
        get { lock.withLock { scanReuse } }
        set { lock.withLock { scanReuse = newValue } }
    }
    /// Most models resident at once (Ollama's default on a CPU: 3). At least 1.
    public var maxLoadedModels: Int {
        get { lock.withLock { loadedLimit } }
        set { lock.withLock { loadedLimit = max(1, newValue) } }
    }
    // the settings above, under `lock`
    private var retryInterval: TimeInterval = 5
    private var scanReuse: TimeInterval = 2
    private var loadedLimit = 3
    /// When each loaded model was last asked for or finished loading (least recently used goes first).
    private var lastUsed: [String: UInt64] = [:]
    private var useCounter: UInt64 = 0
    /// Models let go while generations may still hold them: asked for again while alive, they are taken back
    /// rather than loaded a second time.
    private var released: [String: WeakSession] = [:]

    private final class WeakSession {
        weak var object: AnyObject?
        init(_ session: any InferenceSession) { object = session as AnyObject }
        var session: (any InferenceSession)? { object as? any InferenceSession }
    }

    private let loader: Loader
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var cachedScan: (models: [ModelDescriptor], at: Date)?

    private enum Entry {
        case loading(Load)
        case loaded(any InferenceSession)
        case failed(ShimmyError, Date)
    }

    /// A registry over `searchPaths` (nil: the standard folders). Each folder is scanned by what it holds, so a
    /// path may be a plain folder, a Hugging Face cache or an Ollama store. `loader` defaults to `LlamaModel`.
    public init(searchPaths: [String]? = nil, options: ModelOptions = ModelOptions(), loader: Loader? = nil) {
        if let searchPaths {
            let cwd = FileManager.default.currentDirectoryPath
            let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
            searchedFolders = ModelSearchPaths.unique(searchPaths.map {
                ModelSearchPaths.makeAbsolute($0, home: home, currentDirectory: cwd)
            })
        } else {
            searchedFolders = ModelSearchPaths.standard()
        }
        self.options = options
        self.loader = loader ?? ModelRegistry.defaultLoader
    }

    /// Loads a file with the engine (`LlamaModel`).
    public static let defaultLoader: Loader = { descriptor, options in
        try LlamaModel.load(path: descriptor.path, name: descriptor.name, options: options)
    }

    // MARK: - Discovery

    /// Every model found, the default one first, then in folder order; a name or file found twice is listed once
    /// (the first one wins).
    public func availableModels() -> [ModelDescriptor] {
        let models = scan()
        guard let index = defaultIndex(in: models), index > 0 else { return models }
        var ordered = models
        ordered.insert(ordered.remove(at: index), at: 0)
        return ordered
    }

    /// Scans the folders again now instead of reusing a recent scan.
    public func refresh() {
        lock.withLock { cachedScan = nil }
    }

    private func scan() -> [ModelDescriptor] {
        if let (cached, lifetime) = lock.withLock({ cachedScan.map { ($0, scanReuse) } }),
           Date().timeIntervalSince(cached.at) < lifetime {
            return cached.models
        }
        // the first folder wins a name; one file may have several names (Ollama tags sharing a blob), and loads once
        // (sessions are keyed by the resolved file)
        var names = Set<String>()
        var models: [ModelDescriptor] = []
        for folder in searchedFolders {
            for model in ModelScanner.scan(folder) where !names.contains(model.name) {
                names.insert(model.name)
                models.append(model)
            }
        }
        lock.withLock { cachedScan = (models, Date()) }
        return models
    }

    /// The default model: `SmolLM2-135M-Instruct.Q4_1` when found, else the first model found.
    private func defaultIndex(in models: [ModelDescriptor]) -> Int? {
        models.firstIndex { $0.name == ModelSearchPaths.defaultModelName } ?? (models.isEmpty ? nil : 0)
    }

    // MARK: - Resolution

    /// Whether a client's name means the default model: `""` or `default` in any case (names match case-insensitively
    /// too).
    public static func isDefaultAlias(_ name: String) -> Bool { name.isEmpty || name.lowercased() == "default" }

    /// Resolves a name from a client (the server): never a path. `nil`, `""` and `"default"` mean the default
    /// model; otherwise as `match(_:in:)`. Throws `.modelNotFound` listing the searched folders.
    public func resolveName(_ name: String?) throws -> ModelDescriptor {
        let models = scan()
        let wanted = name ?? ""
        if Self.isDefaultAlias(wanted) {
            guard let index = defaultIndex(in: models) else {
                throw ShimmyError(.modelNotFound, "No models found",
                                  details: "searched \(searchedFolders.joined(separator: ", ")); run scripts/setup.sh "
                                      + "or set SHIMMY_MODEL_PATHS")
            }
            return models[index]
        }
        if let model = Self.match(wanted, in: models) { return model }
        let available = models.prefix(20).map(\.name).joined(separator: ", ")
        throw ShimmyError(.modelNotFound, "Model '\(wanted)' is not available",
                          details: "searched \(searchedFolders.joined(separator: ", "))"
                              + (available.isEmpty ? "; no models found" : "; available: \(available)"))
    }

    /// The model among `models` that a client's name means (the registry, `PinnedCatalog` and `/v1/models/{id}`
    /// resolve names alike): the exact name, then `name:latest`, the name without `.gguf`, without `:latest`, and
    /// Ollama's full `host/namespace/name:tag` as listed (`namespace/name:tag`, `name:tag` in `library`); then the
    /// same case-insensitively. Nil when none matches (`default` is not special here).
    public static func match(_ wanted: String, in models: [ModelDescriptor]) -> ModelDescriptor? {
        var candidates = [wanted]
        if !wanted.contains(":") { candidates.append(wanted + ":latest") }
        if wanted.lowercased().hasSuffix(".gguf") { candidates.append(String(wanted.dropLast(5))) }
        // Ollama's default tag: `name:latest` is also the file named `name`
        if wanted.hasSuffix(":latest") { candidates.append(String(wanted.dropLast(7))) }
        // Ollama's full names: `host/namespace/name:tag` is listed as `namespace/name:tag` (`name:tag` in the
        // `library` namespace)
        var parts = wanted.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count >= 3 { parts.removeFirst() }
        if parts.count == 2 && parts[0] == "library" { parts.removeFirst() }
        let short = parts.joined(separator: "/")
        if short != wanted { candidates += [short] + (short.contains(":") ? [] : [short + ":latest"]) }
        for candidate in candidates {
            if let model = models.first(where: { $0.name == candidate }) { return model }
        }
        for candidate in candidates {
            if let model = models.first(where: { $0.name.lowercased() == candidate.lowercased() }) { return model }
        }
        return nil
    }

    /// Resolves a CLI argument: an existing file path is that file (named by its stem); anything else is a name
    /// (see `resolveName(_:)`), `default` in any case included (`./default` names a file so called).
    public func resolve(_ nameOrPath: String?) throws -> ModelDescriptor {
        if let path = nameOrPath, !Self.isDefaultAlias(path),
           let info = ModelScanner.fileInfo(path), info.isRegular
        {
            let url = URL(fileURLWithPath: path).standardizedFileURL
            let file = url.lastPathComponent
            let name = file.lowercased().hasSuffix(".gguf") ? String(file.dropLast(5)) : file
            return ModelDescriptor(name: name, path: url.path, sizeBytes: info.size, modified: info.modified)
        }
        do {
            return try resolveName(nameOrPath)
        } catch var error as ShimmyError {
            // an argument that looks like a path gets a message about the file
            if let path = nameOrPath, path.contains("/") {
                error.message = "No model file at '\(path)' and no model by that name"
            }
            throw error
        }
    }

    // MARK: - Loading

    /// A session on the model a client named (never a path), loading it once.
    public func session(named name: String?) async throws -> any InferenceSession {
        try await session(for: try resolveName(name))
    }

    /// A session on a model named or given by path (for the CLI), loading it once.
    public func load(_ nameOrPath: String?) async throws -> any InferenceSession {
        try await session(for: try resolve(nameOrPath))
    }

    /// A session on `descriptor`'s file: the resident model, the load in progress, or a new load. A failed load
    /// is reported again to requests within `failureRetryInterval`, then tried again.
    public func session(for descriptor: ModelDescriptor) async throws -> any InferenceSession {
        let key = URL(fileURLWithPath: descriptor.path).resolvingSymlinksInPath().path
        enum Step {
            case ready(any InferenceSession)
            case wait(Load)
            case fail(ShimmyError)
        }
        let step: Step = lock.withLock {
            touch(key)
            switch entries[key] {
            case .loaded(let session):
                return .ready(session)
            case .loading(let task):
                return .wait(task)
            case .failed(let error, let at) where Date().timeIntervalSince(at) < retryInterval:
                return .fail(error)
            default:
                if let alive = released.removeValue(forKey: key)?.session {
                    entries[key] = .loaded(alive)
                    evictBeyondLimit(keeping: key)
                    return .ready(alive)
                }
                let loader = self.loader
                let options = self.options
                // on a thread of its own, which resumes the waiters: a load is seconds of blocking work, which would
                // hold one of the few threads of Swift's cooperative pool (or wait for one, when tests or embedding
                // code block them)
                let load = Load()
                let thread = Thread { load.finish(Result { try loader(descriptor, options) }) }
                thread.stackSize = 8 << 20
                thread.start()
                entries[key] = .loading(load)
                return .wait(load)
            }
        }
        switch step {
        case .ready(let session):
            return session
        case .fail(let error):
            throw error
        case .wait(let task):
            do {
                let session = try await task.value()
                lock.withLock {
                    // the first waiter records the load; a later one finds it done (or let go since)
                    guard case .loading(let current) = entries[key], current === task else { return }
                    entries[key] = .loaded(session)
                    touch(key)
                    evictBeyondLimit(keeping: key)
                }
                return session
            } catch {
                let failure = Self.loadError(error, descriptor)
                lock.withLock {
                    if case .loading = entries[key] { entries[key] = .failed(failure, Date()) }
                }
                throw failure
            }
        }
    }

    /// Marks `key` as the most recently used. Callers hold `lock`.
    private func touch(_ key: String) {
        useCounter += 1
        lastUsed[key] = useCounter
    }

    /// Lets the least recently used loaded models other than `key` go until at most `loadedLimit` are loaded.
    /// Callers hold `lock`. A session still in use lives on in its users until they finish (see `released`).
    /// Loads in progress count only once done: concurrent loads of more models than the limit all finish, and
    /// the last to finish trims the rest.
    private func evictBeyondLimit(keeping key: String) {
        var others = entries.compactMap { entry -> String? in
            if case .loaded = entry.value, entry.key != key { return entry.key }
            return nil
        }
        let excess = others.count + 1 - loadedLimit
        guard excess > 0 else { return }
        others.sort { (lastUsed[$0] ?? 0) < (lastUsed[$1] ?? 0) }
        for victim in others.prefix(excess) {
            if case .loaded(let session) = entries[victim] { released[victim] = WeakSession(session) }
            entries[victim] = nil
            lastUsed[victim] = nil
        }
        released = released.filter { $0.value.object != nil }
    }

    /// One load in progress: the thread that loads finishes it, which resumes every waiter.
    final class Load: @unchecked Sendable {
        private let lock = NSLock()
        private var result: Result<any InferenceSession, Error>?
        private var waiters: [CheckedContinuation<any InferenceSession, Error>] = []

        func finish(_ outcome: Result<any InferenceSession, Error>) {
            let waiting = lock.withLock { () -> [CheckedContinuation<any InferenceSession, Error>] in
                result = outcome
                defer { waiters = [] }
                return waiters
            }
            for waiter in waiting { waiter.resume(with: outcome) }
        }

        func value() async throws -> any InferenceSession {
            try await withCheckedThrowingContinuation { continuation in
                let done = lock.withLock { () -> Result<any InferenceSession, Error>? in
                    if result == nil { waiters.append(continuation) }
                    return result
                }
                if let done { continuation.resume(with: done) }
            }
        }
    }

    /// The names of the resident models.
    public func loadedModelNames() -> [String] {
        lock.withLock {
            entries.values.compactMap { entry in
                if case .loaded(let session) = entry { return session.modelName }
                return nil
            }.sorted()
        }
    }

    private static func loadError(_ error: Error, _ descriptor: ModelDescriptor) -> ShimmyError {
        if let error = error as? ShimmyError { return error }
        return ShimmyError(.serverError, "Could not load model '\(descriptor.name)'",
                           details: "\(descriptor.path): \(error)")
    }
}
