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
    private var connections: Set<Int32> = []
    private var running = false
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
    public func stop() {
        let fd = lock.withLock { () -> Int32 in
            let fd = listenFD
            running = false
            listenFD = -1
            // connection threads remove their descriptor under this lock before closing it
            for connection in connections { shutdown(connection, Int32(SHUT_RDWR)) }
            return fd
        }
        guard fd >= 0 else { return }
        shutdown(fd, Int32(SHUT_RDWR))  // wakes the accept thread, which closes the descriptor
        stopped.signal()
    }

    /// Blocks the calling thread until `stop()`.
    public func waitUntilStopped() { stopped.wait() }

    /// Open connections now.
    public var connectionCount: Int { lock.withLock { connections.count } }

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
            let (admitted, stopping) = lock.withLock { () -> (Bool, Bool) in
                guard running else { return (false, true) }
                guard connections.count < context.configuration.maxConnections else { return (false, false) }
                connections.insert(client)
                return (true, false)
            }
            if stopping {
                close(client)
                return
            }
            guard admitted else {
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
                lock.withLock { _ = connections.remove(client) }
                close(client)
            }
            thread.name = "shimmy-connection"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}
