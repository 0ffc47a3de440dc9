import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// What a route did with a request.
enum RouteOutcome {
    /// A whole response to send.
    case response(HTTPResponse)
    /// The route streamed its response itself; `reusable` says whether the connection can take another request.
    case streamed(status: Int, reusable: Bool)
    /// The connection became a WebSocket and has been served to its end.
    case upgraded
}

/// One client connection, served on its own thread with blocking I/O and poll timeouts.
final class Connection: @unchecked Sendable {
    let fd: Int32
    let context: ServerContext
    /// Bytes written for the current request (for the log line).
    private(set) var bytesWritten = 0
    /// Bytes received but not yet consumed by a request (handed to a WebSocket after the upgrade).
    var parser: HTTPRequestParser
    /// Headers added to every response to the current request (CORS).
    var responseHeaders: [(name: String, value: String)] = []
    /// Whether the current request allows the connection to stay open.
    private var requestKeepAlive = true
    /// Whether streamed bodies use chunked encoding (HTTP/1.1); HTTP/1.0 clients get raw bytes and a close.
    private var chunkedStreams = true

    init(fd: Int32, context: ServerContext) {
        self.fd = fd
        self.context = context
        self.parser = HTTPRequestParser(limits: context.configuration.limits)
    }

    /// Sends bytes; false when the peer is gone.
    func write(_ bytes: [UInt8]) -> Bool {
        let ok = Socket.sendAll(fd, bytes)
        if ok { bytesWritten += bytes.count }
        return ok
    }

    /// Whether the peer closed its side (checked without consuming data).
    var peerClosed: Bool { Socket.peerClosed(fd) }

    /// Serves requests until the peer closes, a timeout passes, or a response ends the connection.
    func run(router: Router) {
        Socket.setNoDelay(fd)
        Socket.setSendTimeout(fd, seconds: 30)
        let configuration = context.configuration
        while true {
            let request: HTTPRequest
            switch readRequest(configuration) {
            case .request(let r): request = r
            case .closed: return
            case .failed(let error):
                _ = write(error.response.serialized(keepAlive: false))
                log(method: "-", path: "-", status: error.status, start: .now)
                lingeringClose()
                return
            }
            let start = ContinuousClock.now
            bytesWritten = 0
            responseHeaders = []
            // during a graceful shutdown every response closes its connection
            requestKeepAlive = request.keepAlive && !context.connections.isDraining
            chunkedStreams = request.version != "HTTP/1.0"
            let outcome = router.handle(request, on: self)
            switch outcome {
            case .response(var response):
                // a drain that began while the response was made closes the connection too
                let keepAlive = requestKeepAlive && !context.connections.isDraining
                response.headers += responseHeaders
                let ok = write(response.serialized(keepAlive: keepAlive, omitBody: request.method == "HEAD"))
                log(method: request.method, path: request.path, status: response.status, start: start)
                if !ok || !keepAlive { return }
            case .streamed(let status, let reusable):
                log(method: request.method, path: request.path, status: status, start: start)
                if !reusable || !request.keepAlive || !chunkedStreams || context.connections.isDraining { return }
            case .upgraded:
                log(method: request.method, path: request.path, status: 101, start: start)
                return
            }
        }
    }

    /// Half-closes and drains what the client is still sending (bounded), so the error response is not lost to a
    /// reset caused by closing with unread input.
    private func lingeringClose() {
        shutdown(fd, Int32(SHUT_WR))
        let deadline = ContinuousClock.now + .seconds(2)
        var drained = 0
        while drained < 4 * 1024 * 1024, ContinuousClock.now < deadline,
            Socket.waitReadable(fd, timeoutMilliseconds: 200)
        {
            guard let bytes = Socket.receive(fd), !bytes.isEmpty else { return }
            drained += bytes.count
        }
    }

    private enum ReadResult {
        case request(HTTPRequest)
        case closed
        case failed(APIError)
    }

    /// Reads until the parser has a whole request. The idle timer runs from the call; the first byte received (an
    /// empty line before a request too) starts the request timer, and later bytes restart neither, so a trickle of
    /// bytes cannot hold the connection past the idle plus the request timeout.
    private func readRequest(_ configuration: ServerConfiguration) -> ReadResult {
        let idleSince = ContinuousClock.now
        var requestStarted: ContinuousClock.Instant? = parser.isIdle ? nil : idleSince
        while true {
            do {
                if let request = try parser.next() { return .request(request) }
            } catch {
                return .failed(APIError.parse(error))
            }
            if parser.takeContinueRequest() {
                _ = Socket.sendAll(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            }
            let timeout = requestStarted.map { configuration.requestTimeoutSeconds - $0.secondsAgo }
                ?? configuration.idleTimeoutSeconds - idleSince.secondsAgo
            // between requests a graceful shutdown may close the connection (see ConnectionTracker)
            let betweenRequests = requestStarted == nil
            if betweenRequests { context.connections.markIdle(fd) }
            guard timeout > 0, Socket.waitReadable(fd, timeoutMilliseconds: Int32(min(timeout, 86_400) * 1000)) else {
                // nothing but empty lines arrived: an idle connection, closed without an answer
                if parser.isIdle { return .closed }
                return .failed(APIError(status: 408, code: "request_timeout", message: "Request not received in time",
                                        details: "the whole request must arrive within \(configuration.requestTimeoutSeconds) s"))
            }
            if betweenRequests && !context.connections.claim(fd) { return .closed }
            guard let bytes = Socket.receive(fd), !bytes.isEmpty else { return .closed }
            if requestStarted == nil { requestStarted = .now }
            parser.feed(bytes)
        }
    }

    /// One structured line per request. The path is percent-decoded client text: control characters in it are
    /// escaped, so a request cannot write lines of its own into the log.
    func log(method: String, path: String, status: Int, start: ContinuousClock.Instant) {
        let path = path.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            ? path.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined()
            : path
        let milliseconds = start.secondsAgo * 1000
        context.logger.info("request", metadata: [
            "method": .string(method), "path": .string(path), "status": .stringConvertible(status),
            "duration_ms": .string(String(format: "%.1f", milliseconds)), "bytes": .stringConvertible(bytesWritten),
        ])
    }

    // MARK: streaming responses

    /// Sends the head of a chunked streaming response.
    func beginStream(contentType: String) -> Bool {
        write(HTTPResponse.streamingHead(contentType: contentType, headers: responseHeaders,
                                         keepAlive: requestKeepAlive && chunkedStreams, chunked: chunkedStreams))
    }

    /// Sends one chunk of the streaming body (flushed at once: TCP_NODELAY, one send).
    func writeChunk(_ bytes: [UInt8]) -> Bool {
        bytes.isEmpty || write(chunkedStreams ? HTTPResponse.chunk(bytes) : bytes)
    }

    /// Ends the body: the last chunk, or nothing for HTTP/1.0 (the close ends it).
    func endStream() -> Bool { chunkedStreams ? write(HTTPResponse.chunk([])) : true }
}

extension ContinuousClock.Instant {
    /// Seconds from this instant to now (the connection timers and the request log).
    var secondsAgo: Double {
        let elapsed = ContinuousClock.now - self
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
