import Shimmy

/// `/ws/generate`: each text message is a generate request `{model, prompt, max_tokens, temperature}`;
/// the answer is `{"token": ...}` frames then `{"done": true}`, or `{"error": {...}}`.
extension Routes {
    func webSocket() -> RouteOutcome {
        if let rejection = WebSocketHandshake.rejection(of: request) {
            var error = APIError.invalidRequest("Not a WebSocket handshake", details: rejection.reason)
            error.status = rejection.status
            error.headers = rejection.headers
            return .response(error.response)
        }
        guard let key = request.header("Sec-WebSocket-Key"), connection.write(WebSocketHandshake.response(forKey: key)) else {
            return .upgraded
        }
        var session = WebSocketSession(routes: self)
        session.run()
        return .upgraded
    }
}

/// One WebSocket connection after the handshake.
struct WebSocketSession {
    let routes: Routes
    var parser: WebSocketFrameParser
    /// Text messages that arrived while a generation was running.
    var pending: [String] = []
    /// Most messages that may wait behind the running generation; one more closes the connection (1008).
    static let maxPendingMessages = 16
    var closed = false

    init(routes: Routes) {
        self.routes = routes
        self.parser = WebSocketFrameParser(maxMessageBytes: routes.context.configuration.maxWebSocketMessageBytes)
        // frames sent in the same packets as the upgrade request
        parser.feed(routes.connection.parser.takeUnparsedBytes())
    }

    var connection: Connection { routes.connection }

    /// Serves messages until the client closes. Between messages the connection may stay quiet for the idle
    /// timeout; a message begun must arrive whole within the request timeout, so a trickle of bytes cannot hold
    /// the connection.
    mutating func run() {
        let configuration = routes.context.configuration
        var messageBegan: ContinuousClock.Instant?
        handleMessages()
        while !closed {
            if !pending.isEmpty {
                // during a graceful shutdown the messages still queued are not started
                if routes.context.connections.isDraining {
                    _ = connection.write(WebSocketFrame.close(code: 1001, reason: "server shutting down").encoded())
                    return
                }
                serve(pending.removeFirst())
                continue
            }
            if parser.isMidMessage {
                messageBegan = messageBegan ?? .now
            } else {
                messageBegan = nil
            }
            let timeout = messageBegan.map { configuration.requestTimeoutSeconds - $0.secondsAgo }
                ?? configuration.idleTimeoutSeconds
            // between messages a graceful shutdown may close the connection (see ConnectionTracker)
            let betweenMessages = messageBegan == nil
            if betweenMessages { routes.context.connections.markIdle(connection.fd) }
            if timeout <= 0 || !Socket.waitReadable(connection.fd, timeoutMilliseconds: Int32(min(timeout, 86_400) * 1000)) {
                let (code, reason) = messageBegan == nil ? (UInt16(1001), "idle timeout") : (UInt16(1008), "message not received in time")
                _ = connection.write(WebSocketFrame.close(code: code, reason: reason).encoded())
                return
            }
            if betweenMessages && !routes.context.connections.claim(connection.fd) {
                _ = connection.write(WebSocketFrame.close(code: 1001, reason: "server shutting down").encoded())
                return
            }
            readAvailable()
        }
    }

    /// Reads what arrived and handles it.
    mutating func readAvailable() {
        guard let bytes = Socket.receive(connection.fd), !bytes.isEmpty else {
            closed = true
            return
        }
        parser.feed(bytes)
        handleMessages()
    }

    /// Handles the whole frames the parser holds; text messages are queued.
    mutating func handleMessages() {
        do {
            while let message = try parser.next() {
                switch message {
                case .text(let text):
                    // requests queue behind the running one, a bounded number
                    guard pending.count < Self.maxPendingMessages else {
                        _ = connection.write(WebSocketFrame.close(code: 1008, reason: "too many queued messages").encoded())
                        closed = true
                        return
                    }
                    pending.append(text)
                case .binary:
                    send(APIError.invalidRequest("Binary messages are not supported", details: "send JSON as a text message").json)
                case .ping(let payload): _ = connection.write(WebSocketFrame(opcode: .pong, payload: payload).encoded())
                case .pong: break
                case .close(let code, _):
                    _ = connection.write(WebSocketFrame.close(code: code ?? 1000).encoded())
                    closed = true
                    return
                }
            }
        } catch {
            _ = connection.write(WebSocketFrame.close(code: error.closeCode, reason: error.description).encoded())
            closed = true
        }
    }

    @discardableResult
    func send(_ value: JSONValue) -> Bool { connection.write(WebSocketFrame.text(value.serialized).encoded()) }

    /// Runs one generate request and sends its frames.
    mutating func serve(_ text: String) {
        do {
            let decoded = try ShimmyRequestDecoder.generate(Array(text.utf8))
            let prepared = try routes.prepare(decoded)
            var session = self
            defer { self = session }
            _ = try routes.withSlot {
                try GenerationDriver.run(
                    session: prepared.session, request: prepared.request,
                    disconnected: {
                        if Socket.peerClosed(session.connection.fd) { return true }
                        if Socket.waitReadable(session.connection.fd, timeoutMilliseconds: 0) { session.readAvailable() }
                        return session.closed
                    },
                    onText: { text, _ in session.send(["token": .string(text)]) })
            }
            session.send(["done": true])
        } catch GenerationInterruption.clientGone {
            closed = true
        } catch {
            let apiError = error is APIError || error is ShimmyError ? APIError(error) : APIError.generation(error)
            if !send(apiError.json) { closed = true }
        }
    }
}
