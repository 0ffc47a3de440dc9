import Foundation
import Logging
import Shimmy

#if canImport(Glibc)
import Glibc
#endif

/// The shimmy HTTP server: the shimmy 1.1 API, OpenAI- and Ollama-compatible endpoints and a WebSocket,
/// on POSIX sockets with a thread per connection.
///
/// ```swift
/// let server = ShimmyHTTPServer(catalog: registry, configuration: ServerConfiguration(port: 11435))
/// try server.start()
/// print("listening on \(server.port)")
/// server.waitUntilStopped()
/// ```
public final class ShimmyHTTPServer: @unchecked Sendable {
    let context: ServerContext
    private let lock = NSLock()
    private var listenFD: Int32 = -1
    private var running = false
    private var stopSignalled = false
    /// Set by `stop()`, which ends a graceful shutdown's wait.
    private var stopForced = false
    private let stopped = DispatchSemaphore(value: 0)
    /// A logger that drops everything (tests, embedding programs that log elsewhere).
    public static let silentLogger = Logger(label: "shimmy.server") { _ in SwiftLogNoOpLogHandler() }

    /// The port actually bound (useful with port 0).
    public private(set) var port: Int = 0

    public init(catalog: any ModelCatalog, configuration: ServerConfiguration = ServerConfiguration(),
                logger: Logger = Logger(label: "shimmy.server")) {
        self.context = ServerContext(catalog: catalog, configuration: configuration, logger: logger)
    }

    /// Binds, listens and starts the accept thread. Throws `SocketError` when the address cannot be bound.
    public func start() throws {
        Socket.ignoreSIGPIPE()
        let fd = try Socket.listen(host: context.configuration.host, port: context.configuration.port)
        lock.withLock {
            listenFD = fd
            running = true
            port = Socket.boundPort(fd)
        }
        let thread = Thread { [self] in acceptLoop(fd) }
        thread.name = "shimmy-accept"
        thread.start()
        context.logger.info("listening", metadata: [
            "host": .string(context.configuration.host), "port": .stringConvertible(port),
            "parallel": .stringConvertible(context.configuration.parallel),
        ])
    }

    /// Stops accepting, closes open connections (generations in flight are cancelled as their clients vanish).
    /// During a `shutdown(gracePeriod:)` it ends the wait at once.
    public func stop() {
        lock.withLock { stopForced = true }
        closeListener()
        context.connections.shutdownAll()
        signalStopped()
    }

    /// Stops gracefully: stops accepting, closes idle connections, lets requests in progress finish (their
    /// responses close the connection) for up to `gracePeriod` seconds, then stops, cutting what is left.
    /// Returns whether every request finished in time.
    @discardableResult
    public func shutdown(gracePeriod: Double) -> Bool {
        guard closeListener() else { return true }
        context.connections.beginDrain()
        let deadline = ContinuousClock.now + .milliseconds(Int(max(0, min(gracePeriod, 86_400)) * 1000))
        func forced() -> Bool { lock.withLock { stopForced } }
        while context.connections.count > 0 && ContinuousClock.now < deadline && !forced() { usleep(10_000) }
        let finished = context.connections.count == 0 && !forced()
        if !finished {
            context.logger.warning("requests still in progress were cut at the end of the shutdown",
                                   metadata: ["open_connections": .stringConvertible(context.connections.count)])
        }
        context.connections.shutdownAll()
        signalStopped()
        return finished
    }

    /// Marks the server stopped and wakes the accept thread (which closes the listening descriptor); false when
    /// it was not running.
    @discardableResult
    private func closeListener() -> Bool {
        let fd = lock.withLock { () -> Int32 in
            let fd = listenFD
            running = false
            listenFD = -1
            return fd
        }
        guard fd >= 0 else { return false }
        Glibc.shutdown(fd, Int32(SHUT_RDWR))  // wakes the accept thread, which closes the descriptor
        return true
    }

    /// Releases `waitUntilStopped()`, once.
    private func signalStopped() {
        let first = lock.withLock { () -> Bool in
            defer { stopSignalled = true }
            return !stopSignalled
        }
        if first { stopped.signal() }
    }

    /// Blocks the calling thread until `stop()`.
    public func waitUntilStopped() { stopped.wait() }

    /// Open connections now.
    public var connectionCount: Int { context.connections.count }

    /// Accepts connections until `stop()`. This thread owns the listening descriptor and closes it on the way out:
    /// were `stop()` to close it, its number could be reused by another socket (another server in the same
    /// process) before this thread's next `accept`, which would then take that server's connections.
    private func acceptLoop(_ fd: Int32) {
        defer { close(fd) }
        let router = Router(context: context)
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if !lock.withLock({ running }) { return }
                // out of descriptors or similar: back off instead of spinning
                usleep(10_000)
                continue
            }
            switch context.connections.register(client, limit: context.configuration.maxConnections) {
            case .admitted: break
            case .stopping:
                close(client)
                return
            case .full:
                let busy = APIError(status: 503, code: "server_busy", message: "Too many open connections",
                                    details: "limit \(context.configuration.maxConnections)",
                                    headers: [("Retry-After", String(context.configuration.retryAfterSeconds))])
                _ = Socket.sendAll(client, busy.response.serialized(keepAlive: false))
                close(client)
                continue
            }
            let connection = Connection(fd: client, context: context)
            let thread = Thread { [self] in
                connection.run(router: router)
                context.connections.remove(client)
                close(client)
            }
            thread.name = "shimmy-connection"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}
