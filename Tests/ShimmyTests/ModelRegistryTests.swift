import Foundation
import Shimmy
import ShimmyTestSupport
import Testing

/// A session that only knows its name.
private struct NamedSession: InferenceSession {
    var modelName: String
    var contextLength: Int { 2048 }
    var details: ModelDetails { ModelDetails(family: "test") }
    func countTokens(_ prompt: Prompt) throws -> Int { 0 }
    func generate(_ request: GenerationRequest) -> AsyncThrowingStream<GenerationEvent, Error> {
        AsyncThrowingStream { $0.finish() }
    }
}

/// A session object (a class, as `LlamaModel` is) that only knows its name.
private final class ObjectSession: InferenceSession {
    let modelName: String
    init(modelName: String) { self.modelName = modelName }
    var contextLength: Int { 2048 }
    var details: ModelDetails { ModelDetails(family: "test") }
    func countTokens(_ prompt: Prompt) throws -> Int { 0 }
    func generate(_ request: GenerationRequest) -> AsyncThrowingStream<GenerationEvent, Error> {
        AsyncThrowingStream { $0.finish() }
    }
}

/// Counts loader calls (thread-safe).
private final class LoadCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var names: [String] = []
    func record(_ name: String) { lock.withLock { names.append(name) } }
    var calls: [String] { lock.withLock { names } }
}

/// A folder tree built for one test.
private struct Tree {
    let root: URL
    init() throws { root = try TestPaths.temporaryDirectory() }
    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Writes a file starting with the GGUF magic (or `magic`), `size` bytes in all.
    @discardableResult
    func gguf(_ relative: String, size: Int = 64, magic: String = "GGUF") throws -> String {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var data = Data(magic.utf8)
        data.append(Data(repeating: 7, count: max(0, size - data.count)))
        try data.write(to: url)
        return url.path
    }

    func text(_ relative: String, _ content: String) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url)
    }

    func link(_ relative: String, to destination: String) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: destination)
    }

    /// An Ollama manifest whose model layer has `digest`.
    func manifest(_ relative: String, digest: String, mediaType: String = "application/vnd.ollama.image.model")
        throws
    {
        try text(relative, """
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
             "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:00","size":1},
             "layers":[{"mediaType":"application/vnd.ollama.image.license","digest":"sha256:11","size":1},
                       {"mediaType":"\(mediaType)","digest":"\(digest)","size":64}]}
            """)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

private let hashA = String(repeating: "a1", count: 32)
private let hashB = String(repeating: "b2", count: 32)

@Suite("ModelRegistry")
struct ModelRegistryTests {
    @Test("finds .gguf files in a folder and its subfolders, skipping hidden and other files")
    func plainFolder() throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.gguf("alpha.gguf", size: 100)
        try tree.gguf("sub/deeper/Beta.Q8_0.GGUF", size: 50)
        try tree.gguf(".hidden.gguf")
        try tree.gguf(".cache/inside.gguf")
        try tree.text("notes.txt", "not a model")
        let registry = ModelRegistry(searchPaths: [tree.root.path])
        let models = registry.availableModels()
        #expect(models.map(\.name) == ["alpha", "Beta.Q8_0"], "found \(models.map(\.name))")
        #expect(models.first?.sizeBytes == 100)
        #expect(models.last?.path == tree.path("sub/deeper/Beta.Q8_0.GGUF"))
        #expect(registry.searchedFolders == [tree.root.standardizedFileURL.path])
    }

    @Test("reads the Hugging Face cache layout through its snapshot symlinks")
    func huggingFaceCache() throws {
        let tree = try Tree()
        defer { tree.remove() }
        let repo = "hub/models--someone--tiny-GGUF"
        try tree.gguf("\(repo)/blobs/\(hashA)", size: 321)
        try tree.link("\(repo)/snapshots/abc123/tiny-q4_k_m.gguf", to: "../../blobs/\(hashA)")
        try tree.text("\(repo)/refs/main", "abc123")
        let registry = ModelRegistry(searchPaths: [tree.path("hub")])
        let models = registry.availableModels()
        #expect(models.map(\.name) == ["tiny-q4_k_m"], "found \(models.map(\.name))")
        #expect(models.first?.sizeBytes == 321, "the size is the blob's, not the link's")
        #expect(try registry.resolveName("tiny-q4_k_m").path.hasSuffix("snapshots/abc123/tiny-q4_k_m.gguf"))
    }

    @Test("a Hugging Face cache's refs/main revision wins over older snapshots of the same file")
    func huggingFaceMainRevision() throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.gguf("hf/models--org--smol/snapshots/0old/smol.gguf", size: 10)
        try tree.gguf("hf/models--org--smol/snapshots/fnew/smol.gguf", size: 20)
        try tree.text("hf/models--org--smol/refs/main", "fnew\n")
        #expect(try ModelRegistry(searchPaths: [tree.path("hf")]).resolveName("smol").sizeBytes == 20)
        // without refs/main, the first in order
        try FileManager.default.removeItem(atPath: tree.path("hf/models--org--smol/refs/main"))
        #expect(try ModelRegistry(searchPaths: [tree.path("hf")]).resolveName("smol").sizeBytes == 10)
    }

    @Test("reads an Ollama store: manifests name blobs, models are called name:tag")
    func ollamaStore() throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.gguf("ollama/blobs/sha256-\(hashA)", size: 222)
        try tree.gguf("ollama/blobs/sha256-\(hashB)", size: 111)
        try tree.gguf("ollama/blobs/sha256-\(String(repeating: "c", count: 64))", magic: "PK\u{3}\u{4}")
        try tree.manifest("ollama/manifests/host.invalid/library/tiny/latest", digest: "sha256:\(hashA)")
        try tree.manifest("ollama/manifests/host.invalid/someone/other/7b", digest: "sha256:\(hashB)")
        try tree.manifest("ollama/manifests/host.invalid/library/escape/x", digest: "sha256:../../../etc/passwd")
        try tree.manifest("ollama/manifests/host.invalid/library/notgguf/x",
                          digest: "sha256:\(String(repeating: "c", count: 64))")
        try tree.manifest("ollama/manifests/host.invalid/library/missing/x",
                          digest: "sha256:\(String(repeating: "d", count: 64))")
        try tree.manifest("ollama/manifests/host.invalid/library/nomodel/x", digest: "sha256:\(hashA)",
                          mediaType: "application/vnd.ollama.image.adapter")
        try tree.text("ollama/manifests/host.invalid/library/broken/x", "{not json")
        let registry = ModelRegistry(searchPaths: [tree.path("ollama")])
        let models = registry.availableModels()
        #expect(Set(models.map(\.name)) == ["tiny:latest", "someone/other:7b"], "found \(models.map(\.name))")
        let tiny = try registry.resolveName("tiny")
        #expect(tiny.name == "tiny:latest")
        #expect(tiny.path == tree.path("ollama/blobs/sha256-\(hashA)"))
        #expect(tiny.sizeBytes == 222)
        #expect(try registry.resolveName("someone/other:7b").sizeBytes == 111)
        // Ollama's full names, with the host (and the library namespace)
        #expect(try registry.resolveName("host.invalid/someone/other:7b").sizeBytes == 111)
        #expect(try registry.resolveName("host.invalid/library/tiny:latest").name == "tiny:latest")
        #expect(try registry.resolveName("library/tiny").name == "tiny:latest")
    }

    @Test("Ollama tags that share a blob are each listed and resolvable, and load once")
    func ollamaSharedBlob() async throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.gguf("ollama/blobs/sha256-\(hashA)", size: 222)
        try tree.manifest("ollama/manifests/host.invalid/library/smol/latest", digest: "sha256:\(hashA)")
        try tree.manifest("ollama/manifests/host.invalid/library/smol/135m", digest: "sha256:\(hashA)")
        let counter = LoadCounter()
        let registry = ModelRegistry(searchPaths: [tree.path("ollama")]) { descriptor, _ in
            counter.record(descriptor.name)
            return NamedSession(modelName: descriptor.name)
        }
        #expect(registry.availableModels().map(\.name).sorted() == ["smol:135m", "smol:latest"])
        #expect(try registry.resolveName("smol").name == "smol:latest")
        _ = try await registry.session(named: "smol:135m")
        _ = try await registry.session(named: "smol")
        #expect(counter.calls.count == 1, "loader calls: \(counter.calls)")
    }

    @Test("digests that could leave blobs/ are refused",
          arguments: ["sha256:../x", "sha256:", ":abc", "sha256:ABC", "sha256:ab/cd", "sha/256:ab", "sha256:a:b"])
    func badDigests(digest: String) {
        let tree = try? Tree()
        defer { tree?.remove() }
        if let tree {
            _ = try? tree.gguf("o/blobs/sha256-ab")
            try? tree.manifest("o/manifests/h/library/m/t", digest: digest)
            let found = ModelRegistry(searchPaths: [tree.path("o")]).availableModels()
            #expect(found.isEmpty, "digest \(digest) gave \(found.map(\.path))")
        }
    }

    @Test("names never reach files outside the model folders",
          arguments: ["../../etc/passwd", "/etc/passwd", "..", "alpha/../../x", "./alpha.gguf"])
    func pathTraversal(name: String) throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.gguf("models/alpha.gguf")
        try tree.gguf("outside.gguf")
        let registry = ModelRegistry(searchPaths: [tree.path("models")])
        #expect(throws: ShimmyError.self) { try registry.resolveName(name) }
        #expect(throws: ShimmyError.self) { try registry.resolveName(tree.path("outside.gguf")) }
        // the CLI may name a file explicitly
        #expect(try registry.resolve(tree.path("outside.gguf")).name == "outside")
        do {
            _ = try registry.resolve(tree.path("missing.gguf"))
            Issue.record("a missing file resolved")
        } catch let error as ShimmyError {
            #expect(error.code == .modelNotFound)
            #expect(error.message.contains("No model file at"), "message: \(error.message)")
        }
    }

    @Test("an unknown name is model_not_found and lists the searched folders")
    func unknownName() throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.gguf("a/alpha.gguf")
        let registry = ModelRegistry(searchPaths: [tree.path("a"), tree.path("b")])
        do {
            _ = try registry.resolveName("nope")
            Issue.record("resolved an unknown name")
        } catch let error as ShimmyError {
            #expect(error.code == .modelNotFound)
            #expect(error.details?.contains(tree.path("a")) == true, "details: \(error.details ?? "")")
            #expect(error.details?.contains(tree.path("b")) == true, "details: \(error.details ?? "")")
            #expect(error.details?.contains("alpha") == true)
        }
        let empty = ModelRegistry(searchPaths: [tree.path("b")])
        #expect(empty.availableModels().isEmpty)
        #expect(throws: ShimmyError.self) { try empty.resolveName(nil) }
    }

    @Test("the default model comes first and answers to nil and \"default\"")
    func defaultModel() throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.gguf("m/aaa.gguf")
        try tree.gguf("m/\(ModelSearchPaths.defaultModelFile)")
        let registry = ModelRegistry(searchPaths: [tree.path("m")])
        #expect(registry.availableModels().map(\.name) == [ModelSearchPaths.defaultModelName, "aaa"])
        #expect(try registry.resolveName(nil).name == ModelSearchPaths.defaultModelName)
        #expect(try registry.resolveName("default").name == ModelSearchPaths.defaultModelName)
        #expect(try registry.resolveName("Default").name == ModelSearchPaths.defaultModelName)  // any case, as names
        #expect(try registry.resolve(nil).name == ModelSearchPaths.defaultModelName)
        #expect(try registry.resolveName("smollm2-135m-instruct.q4_1").name == ModelSearchPaths.defaultModelName)
        #expect(try registry.resolveName("aaa.gguf").name == "aaa")

        let other = try Tree()
        defer { other.remove() }
        try other.gguf("m/zzz.gguf")
        #expect(try ModelRegistry(searchPaths: [other.path("m")]).resolveName("default").name == "zzz",
                "without the default model the first model found stands in")
    }

    @Test("the first folder wins a name; one file reached twice is listed once")
    func duplicates() throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.gguf("one/same.gguf", size: 10)
        try tree.gguf("two/same.gguf", size: 20)
        try tree.gguf("two/unique.gguf")
        try tree.link("three", to: tree.path("two"))
        let registry = ModelRegistry(searchPaths: [tree.path("one"), tree.path("two"), tree.path("three")])
        let models = registry.availableModels()
        #expect(models.map(\.name) == ["same", "unique"], "found \(models.map(\.path))")
        #expect(models.first?.sizeBytes == 10)
    }

    @Test("standard folders: SHIMMY_MODEL_PATHS first, then ./models, the default folder, HF cache, Ollama")
    func standardFolders() throws {
        let tree = try Tree()
        defer { tree.remove() }
        let home = tree.path("home")
        let folders = ModelSearchPaths.standard(
            environment: ["SHIMMY_MODEL_PATHS": "/opt/models:rel/dir::~/mine", "HOME": home],
            currentDirectory: "/work/here", executablePath: nil)
        #expect(folders == ["/opt/models", "/work/here/rel/dir", home + "/mine", "/work/here/models",
                            home + "/.cache/huggingface/hub", home + "/.ollama/models"], "got \(folders)")
        let custom = ModelSearchPaths.standard(
            environment: ["HOME": home, "OLLAMA_MODELS": "/srv/ollama", "HF_HOME": "/srv/hf",
                          "SHIMMY_MODELS_DIR": "/srv/default"],
            currentDirectory: "/c", executablePath: nil)
        #expect(custom == ["/c/models", "/srv/default", "/srv/hf/hub", "/srv/ollama"], "got \(custom)")
    }

    @Test("the default model folder is found by walking up from the executable's real path")
    func defaultFolderFromExecutable() throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.gguf("repo/models/\(ModelSearchPaths.defaultModelFile)")
        try tree.text("repo/.build/release/shimmy", "#!/bin/sh\n")
        try tree.link("bin/shimmy", to: tree.path("repo/.build/release/shimmy"))
        let expected = tree.root.appendingPathComponent("repo/models").resolvingSymlinksInPath().path
        #expect(ModelSearchPaths.defaultModelFolder(above: tree.path("repo/.build/release/shimmy")) == expected)
        #expect(ModelSearchPaths.defaultModelFolder(above: tree.path("bin/shimmy")) == expected)
        #expect(ModelSearchPaths.defaultModelFolder(above: tree.path("bin/other")) == nil)
        let folders = ModelSearchPaths.standard(environment: ["HOME": tree.path("home")], currentDirectory: "/c",
                                                executablePath: tree.path("bin/shimmy"))
        #expect(folders.contains(expected), "got \(folders)")
    }

    @Test("concurrent requests for one model load it once and share it")
    func loadsOnce() async throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.gguf("m/\(ModelSearchPaths.defaultModelFile)")
        try tree.gguf("m/other.gguf")
        let counter = LoadCounter()
        let registry = ModelRegistry(searchPaths: [tree.path("m")]) { descriptor, _ in
            counter.record(descriptor.name)
            Thread.sleep(forTimeInterval: 0.2)
            return NamedSession(modelName: descriptor.name)
        }
        #expect(await registry.loadedModelCount() == 0)
        let names = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<12 {
                group.addTask {
                    let name: String? = [nil, "default", ModelSearchPaths.defaultModelName][i % 3]
                    return try await registry.session(named: name).modelName
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(names == Array(repeating: ModelSearchPaths.defaultModelName, count: 12))
        #expect(counter.calls == [ModelSearchPaths.defaultModelName], "loader calls: \(counter.calls)")
        #expect(await registry.loadedModelCount() == 1)
        _ = try await registry.session(named: "other")
        _ = try await registry.load(tree.path("m/other.gguf"))
        #expect(counter.calls.count == 2, "loader calls: \(counter.calls)")
        #expect(await registry.loadedModelCount() == 2)
        #expect(registry.loadedModelNames() == [ModelSearchPaths.defaultModelName, "other"])
    }

    /// A registry over models a, b and c whose loader records each call and makes the session with `make`.
    private static func threeModels(_ make: @escaping @Sendable (String) -> any InferenceSession) throws
        -> (tree: Tree, counter: LoadCounter, registry: ModelRegistry)
    {
        let tree = try Tree()
        for name in ["a", "b", "c"] { try tree.gguf("m/\(name).gguf") }
        let counter = LoadCounter()
        let registry = ModelRegistry(searchPaths: [tree.path("m")]) { descriptor, _ in
            counter.record(descriptor.name)
            return make(descriptor.name)
        }
        return (tree, counter, registry)
    }

    @Test("at most maxLoadedModels stay resident: the least recently used one is let go, and loads again when asked")
    func loadedLimit() async throws {
        let (tree, counter, registry) = try Self.threeModels { NamedSession(modelName: $0) }
        defer { tree.remove() }
        #expect(registry.maxLoadedModels == 3)
        registry.maxLoadedModels = 2
        _ = try await registry.session(named: "a")
        _ = try await registry.session(named: "b")
        _ = try await registry.session(named: "a")  // b is now the least recently used
        let c = try await registry.session(named: "c")
        #expect(registry.loadedModelNames() == ["a", "c"])
        #expect(c.modelName == "c")  // a session let go stays usable by whoever holds it
        _ = try await registry.session(named: "b")
        #expect(registry.loadedModelNames() == ["b", "c"])
        #expect(counter.calls == ["a", "b", "c", "b"], "loader calls: \(counter.calls)")
        registry.maxLoadedModels = 0
        #expect(registry.maxLoadedModels == 1)
    }

    @Test("a model let go while a user still holds it is taken back, not loaded twice; loads finishing out of order keep the limit")
    func loadedLimitEdges() async throws {
        let (tree, counter, registry) = try Self.threeModels { name in
            if name == "a" { Thread.sleep(forTimeInterval: 0.3) }  // a slow load
            return ObjectSession(modelName: name)
        }
        defer { tree.remove() }
        registry.maxLoadedModels = 1
        // a starts first and finishes last: the last load to finish trims the other
        async let slow = registry.session(named: "a")
        try await Task.sleep(for: .milliseconds(50))
        let b = try await registry.session(named: "b")
        _ = try await slow
        #expect(registry.loadedModelNames() == ["a"])
        // b was let go but is still held here: asking for it again takes it back
        let again = try await registry.session(named: "b")
        #expect(again as AnyObject === b as AnyObject)
        #expect(registry.loadedModelNames() == ["b"])
        #expect(counter.calls.sorted() == ["a", "b"], "loader calls: \(counter.calls)")
    }

    @Test("a failed load is reported as server_error, remembered briefly, then retried")
    func failedLoad() async throws {
        struct Boom: Error {}
        let tree = try Tree()
        defer { tree.remove() }
        try tree.gguf("m/bad.gguf")
        let counter = LoadCounter()
        let registry = ModelRegistry(searchPaths: [tree.path("m")]) { descriptor, _ in
            counter.record(descriptor.name)
            throw Boom()
        }
        for _ in 0..<3 {
            await #expect(throws: ShimmyError(.serverError, "Could not load model 'bad'",
                                              details: tree.path("m/bad.gguf") + ": Boom()")) {
                try await registry.session(named: "bad")
            }
        }
        #expect(counter.calls.count == 1, "a failure within the retry interval is not loaded again")
        registry.failureRetryInterval = 0
        await #expect(throws: ShimmyError.self) { try await registry.session(named: "bad") }
        #expect(counter.calls.count == 2)
        #expect(await registry.loadedModelCount() == 0)
        await #expect(throws: ShimmyError.self) { try await registry.session(named: "../m/bad") }
        #expect(counter.calls.count == 2, "an unknown name never reaches the loader")
    }

    @Test("the default loader reports the engine's error instead of crashing")
    func defaultLoader() async throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.gguf("m/fake.gguf", size: 16)
        let registry = ModelRegistry(searchPaths: [tree.path("m")])
        do {
            _ = try await registry.session(named: "fake")
            Issue.record("a 16-byte fake file loaded")
        } catch let error as ShimmyError {
            #expect(error.code == .serverError || error.code == .modelNotFound, "got \(error)")
        }
    }

    @Test("new files show up after refresh()")
    func refresh() throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.gguf("m/first.gguf")
        let registry = ModelRegistry(searchPaths: [tree.path("m")])
        #expect(registry.availableModels().count == 1)
        try tree.gguf("m/second.gguf")
        registry.refresh()
        #expect(registry.availableModels().map(\.name) == ["first", "second"])
    }
    @Test("broken links, link cycles and deep trees neither crash nor hang the scan")
    func awkwardTrees() throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.gguf("m/good.gguf")
        try tree.link("m/broken.gguf", to: tree.path("nowhere.gguf"))
        try tree.link("m/loop", to: tree.path("m"))
        try tree.gguf("m/a/b/c/d/e/f/g/h/too-deep.gguf")
        try tree.gguf("m/a/b/shallow.gguf")
        let names = ModelRegistry(searchPaths: [tree.path("m"), tree.path("nowhere")]).availableModels().map(\.name)
        #expect(names == ["shallow", "good"] || names == ["good", "shallow"], "found \(names)")
    }
    @Test("the default model loads through the registry once, and a seed fixes its output")
    func realModel() async throws {
        let folder = URL(fileURLWithPath: TestPaths.defaultModel).deletingLastPathComponent().path
        let registry = ModelRegistry(searchPaths: [folder], options: ModelOptions(contextLength: 256))
        async let first = registry.session(named: nil)
        async let second = registry.session(named: ModelSearchPaths.defaultModelName)
        let (a, b) = try await (first, second)
        #expect(a.modelName == ModelSearchPaths.defaultModelName)
        #expect(a.details.family == "llama")
        let shared = ObjectIdentifier(a as AnyObject) == ObjectIdentifier(b as AnyObject)
        #expect(shared, "both requests share one loaded model")
        #expect(await registry.loadedModelCount() == 1)

        func text(_ session: any InferenceSession) async throws -> String {
            let request = GenerationRequest(prompt: .text("The capital of France is"),
                                            sampling: SamplingParameters(temperature: 1.0, seed: 42), maxTokens: 3)
            var out = ""
            for try await event in session.generate(request) {
                if case .chunk(let chunk, _) = event { out += chunk }
            }
            return out
        }
        let one = try await text(a)
        let two = try await text(b)
        #expect(one == two, "same seed, different text: \(one.debugDescription) vs \(two.debugDescription)")
        #expect(!one.isEmpty)
    }
}
