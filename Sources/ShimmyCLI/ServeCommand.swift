import ArgumentParser
import Foundation
import Logging
import Shimmy
import Synchronization
import ShimmyServer

/// `shimmy serve`: Serve models over HTTP: the shimmy 1.1 API, OpenAI and Ollama endpoints.
///
/// ```
/// shimmy serve                                  # 127.0.0.1:11435, every model found
/// shimmy serve --bind 0.0.0.0:8080 --model models/SmolLM2-135M-Instruct.Q4_1.gguf --parallel 2
/// ```
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve models over HTTP: the shimmy 1.1 API, OpenAI and Ollama endpoints.")

    @Option(help: "Address to listen on, HOST:PORT (IPv6 as [::1]:PORT).")
    var bind: String = "127.0.0.1:11435"

    @Option(parsing: .unconditional, help: "Port to listen on (overrides the port of --bind; 0 picks a free one).")
    var port: Int?

    @Option(name: .long, parsing: .upToNextOption,
            help: "Models to serve, by name or path (--model a b, or --model a --model b); loaded at start. Default: every model found.")
    var model: [String] = []

    @Option(parsing: .unconditional, help: "Generations that run at once.")
    var parallel: Int = 4

    @Option(name: .customLong("max-queue"), parsing: .unconditional,
            help: "Generations that may wait for a slot before the server answers 503.")
    var maxQueue: Int = 16

    @Option(name: .customLong("max-loaded-models"), parsing: .unconditional,
            help: "Models kept loaded at once; the least recently used one is let go for another (at least the --model count).")
    var maxLoadedModels: Int = 3

    @Option(name: .customLong("context-length"), parsing: .unconditional,
            help: "KV-cache size in tokens (default: the model's, at most 4096).")
    var contextLength: Int?

    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer KEY' on every route but health (default: $SHIMMY_API_KEY).")
    var apiKey: String?

    @Option(name: .customLong("cors-origins"), help: "Comma-separated origins allowed from browsers ('*' for any); CORS is off without it.")
    var corsOrigins: String?

    @Option(name: .customLong("shutdown-timeout"), parsing: .unconditional,
            help: "On SIGINT or SIGTERM, seconds that requests in progress may take to finish (a second signal stops at once).")
    var shutdownTimeout: Double = 10

    @Flag(name: [.customShort("v"), .long], help: "Verbose logging.")
    var verbose = false

    @OptionGroup var versionFlag: VersionFlag

    func validate() throws {
        guard parallel >= 1 else { throw ValidationError("--parallel must be at least 1") }
        guard maxQueue >= 0 else { throw ValidationError("--max-queue must be 0 or more") }
        guard maxLoadedModels >= 1 else { throw ValidationError("--max-loaded-models must be at least 1") }
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be in 0...65535") }
        if let contextLength, contextLength < 1 { throw ValidationError("--context-length must be at least 1") }
        guard shutdownTimeout >= 0, shutdownTimeout <= 86_400 else {
            throw ValidationError("--shutdown-timeout must be in 0...86400 seconds")
        }
        _ = try parseBind()
    }

    /// HOST and PORT of `--bind`.
    func parseBind() throws -> (host: String, port: Int) {
        var text = bind
        var host: String
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw ValidationError("--bind: missing ']' in '\(bind)'") }
            host = String(text[text.index(after: text.startIndex)..<close])
            text = String(text[text.index(after: close)...])
            guard text.isEmpty || text.hasPrefix(":") else { throw ValidationError("--bind: expected HOST:PORT, got '\(bind)'") }
            text = String(text.dropFirst())
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            text = String(text[text.index(after: colon)...])
        } else {
            host = text
            text = ""
        }
        // no host is loopback: listening on other interfaces takes an explicit 0.0.0.0 (SECURITY.md)
        if host.isEmpty { host = "127.0.0.1" }
        guard let port = text.isEmpty ? 11435 : Int(text), (0...65535).contains(port) else {
            throw ValidationError("--bind: invalid port in '\(bind)'")
        }
        return (host, port)
    }

    func run() async throws {
        var logger = Logger(label: "shimmy.server") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .info
        let (host, bindPort) = try parseBind()
        returnLargeBlocksToTheSystem()
        let registry = ModelRegistry(options: ModelOptions(contextLength: contextLength))
        // the models named on the command line stay loaded together
        registry.maxLoadedModels = max(maxLoadedModels, model.count)
        let catalog: any ModelCatalog
        if model.isEmpty {
            catalog = registry
        } else {
            let descriptors = try model.map { try registry.resolve($0) }
            catalog = PinnedCatalog(models: descriptors, loader: { try await registry.session(for: $0) },
                                    loadedNames: { registry.loadedModelNames() })
            for descriptor in descriptors {
                do {
                    _ = try await registry.session(for: descriptor)
                    logger.info("model loaded", metadata: ["model": .string(descriptor.name)])
                } catch {
                    logger.error("model failed to load; requests for it will fail",
                                 metadata: ["model": .string(descriptor.name), "error": .string("\(error)")])
                }
            }
        }
        let configuration = ServerConfiguration(host: host, port: port ?? bindPort, parallel: parallel,
                                                maxQueued: maxQueue,
                                                version: ShimmyCommand.version,
                                                apiKey: apiKey ?? ProcessInfo.processInfo.environment["SHIMMY_API_KEY"],
                                                corsOrigins: (corsOrigins ?? "").split(separator: ",")
                                                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        let server = ShimmyHTTPServer(catalog: catalog, configuration: configuration, logger: logger)
        try server.start()
        stopOnSignals(server, logger: logger)
        // the actual address, on stdout, for scripts that started the server on port 0
        let address = "http://\(host.contains(":") ? "[\(host)]" : host):\(server.port)"
        FileHandle.standardOutput.write(Data("shimmy listening on \(address)\n".utf8))
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                server.waitUntilStopped()
                continuation.resume()
            }
            thread.start()
        }
    }

    /// The first SIGINT or SIGTERM stops the server gracefully: it accepts nothing more, closes idle connections and
    /// lets requests in progress finish for up to --shutdown-timeout seconds. A second one stops it at once.
    private func stopOnSignals(_ server: ShimmyHTTPServer, logger: Logger) {
        let signalled = Mutex(false)
        let gracePeriod = shutdownTimeout
        onSignals([SIGINT, SIGTERM]) { number in
            let first = signalled.withLock { seen in
                defer { seen = true }
                return !seen
            }
            guard first else {
                logger.warning("stopping at once", metadata: ["signal": .stringConvertible(number)])
                server.stop()
                return
            }
            logger.info("shutting down: finishing requests in progress (a second Ctrl-C stops at once)", metadata: [
                "signal": .stringConvertible(number), "timeout_s": .stringConvertible(gracePeriod),
            ])
            // the server logs what the shutdown had to cut, before `waitUntilStopped` returns
            let thread = Thread { server.shutdown(gracePeriod: gracePeriod) }
            thread.start()
        }
    }
}

/// Makes glibc's malloc map every block of 256 KiB or more on its own and unmap it when freed, for a server that
/// loads and lets go of models. By default the threshold rises to the size of each large block freed (up to
/// 32 MiB), after which such blocks (a Q4_0 model's interleaved copy, batch buffers) come from the per-thread
/// arenas and stay there when freed: four rounds of three models in turn under --max-loaded-models 1 added 144 MiB
/// of anonymous memory where 19 to 31 MiB remain with this (`ServeMemoryTests`). A token's logits stay below it for
/// vocabularies up to 65,536 (SmolLM2's 49,152: 192 KiB), so generation maps nothing more; a larger vocabulary's
/// (Llama 3: 501 KiB) takes one map and unmap per token, microseconds beside such a model's token.
/// (`mallopt` is looked up at run time: Swift's Glibc module leaves out `malloc.h`.)
private func returnLargeBlocksToTheSystem() {
    #if canImport(Glibc)
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD in glibc's malloc.h
    guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "mallopt") else { return }
    _ = unsafeBitCast(symbol, to: Mallopt.self)(mmapThreshold, 256 << 10)
    #endif
}
