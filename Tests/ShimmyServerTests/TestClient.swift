import Foundation
import Testing
import Shimmy
@testable import ShimmyServer

#if canImport(Glibc)
import Glibc
#endif

/// A response as the raw client read it.
struct RawResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var json: JSONValue? { try? JSONParser.parse(body) }
}

enum TestClientError: Error { case connect(Int32), closed(String), timeout }

/// A blocking raw-socket HTTP client for tests: it sends exact bytes and parses responses itself.
final class TestClient {
    let fd: Int32
    private var buffer: [UInt8] = []
    /// Keeps the test server alive while the client is used.
    var owner: AnyObject?

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { close(fd); throw TestClientError.connect(errno) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) { _ = Socket.sendAll(fd, bytes) }
    func send(_ text: String) { send(Array(text.utf8)) }

    /// Closes the connection abruptly.
    func closeNow() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// A request with a JSON body (Content-Length framing).
    func request(_ method: String, _ path: String, body: String? = nil, headers: [String] = []) throws -> RawResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n"
        for h in headers { head += h + "\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        send(head + "\r\n" + (body ?? ""))
        return try readResponse()
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
        if n == 0 { throw TestClientError.closed(String(decoding: buffer, as: UTF8.self)) }
        if n < 0 { throw TestClientError.timeout }
        buffer += chunk[0..<n]
    }

    /// Reads up to and including CRLF; the line without it.
    func readLine() throws -> String {
        while true {
            if let i = buffer.indices.dropLast().first(where: { buffer[$0] == 13 && buffer[$0 + 1] == 10 }) {
                let line = String(decoding: buffer[0..<i], as: UTF8.self)
                buffer.removeFirst(i + 2)
                return line
            }
            try fill()
        }
    }

    func readBytes(_ count: Int) throws -> [UInt8] {
        while buffer.count < count { try fill() }
        let bytes = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return bytes
    }

    /// Reads status line and headers.
    func readHead() throws -> (Int, [(String, String)]) {
        var statusLine = try readLine()
        var status = Int(statusLine.split(separator: " ")[1]) ?? 0
        while status == 100 {
            _ = try readLine()
            statusLine = try readLine()
            status = Int(statusLine.split(separator: " ")[1]) ?? 0
        }
        var headers: [(String, String)] = []
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            let parts = line.split(separator: ":", maxSplits: 1)
            headers.append((String(parts[0]), String(parts.count > 1 ? parts[1] : "").trimmingCharacters(in: " ")))
        }
        return (status, headers)
    }

    /// Reads one chunk of a chunked body (empty at the end).
    func readChunk() throws -> [UInt8] {
        let size = Int(try readLine(), radix: 16) ?? -1
        if size <= 0 { _ = try readLine(); return [] }
        let data = try readBytes(size)
        _ = try readLine()
        return data
    }

    /// Reads a whole response (Content-Length or chunked).
    func readResponse() throws -> RawResponse {
        let (status, headers) = try readHead()
        var response = RawResponse(status: status, headers: headers, body: [])
        if response.header("Transfer-Encoding") == "chunked" {
            while true {
                let chunk = try readChunk()
                if chunk.isEmpty { break }
                response.body += chunk
            }
        } else if let length = Int(response.header("Content-Length") ?? "0"), length > 0 {
            response.body = try readBytes(length)
        }
        return response
    }

    /// Everything until the server closes the connection.
    func readToEnd() -> [UInt8] {
        while (try? fill()) != nil {}
        defer { buffer = [] }
        return buffer
    }

    /// Whether bytes from the server wait to be read (without blocking).
    func isReadable() -> Bool { !buffer.isEmpty || Socket.waitReadable(fd, timeoutMilliseconds: 0) }

    /// True when the server closed the connection (reads until EOF or timeout).
    func isClosedByServer() -> Bool {
        do {
            while true { try fill() }
        } catch TestClientError.closed {
            return true
        } catch {
            return false
        }
    }
}

/// A running server on an ephemeral port with a scripted catalog.
final class TestServer: @unchecked Sendable {
    let server: ShimmyHTTPServer
    let catalog: ScriptedCatalog
    var port: Int { server.port }

    init(_ sessions: [ScriptedSession] = [ScriptedSession(name: "tiny")],
         configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configure(&configuration)
        catalog = ScriptedCatalog(sessions)
        server = ShimmyHTTPServer(catalog: catalog, configuration: configuration, logger: ShimmyHTTPServer.silentLogger)
        try server.start()
    }

    deinit { server.stop() }

    func client() throws -> TestClient {
        let client = try TestClient(port: port)
        client.owner = self
        return client
    }

    var session: ScriptedSession { catalog.sessions[0] }
}

extension TestServer {
    /// A new client whose streamed `/api/generate` of `maxTokens` tokens has begun: the head read (200 checked).
    func streamingClient(maxTokens: Int = 100_000) throws -> TestClient {
        let client = try self.client()
        let body = #"{"model": "tiny", "prompt": "p", "max_tokens": \#(maxTokens), "stream": true}"#
        client.send("POST /api/generate HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
        #expect(try client.readHead().0 == 200)
        return client
    }
}

/// SSE `data:` payloads of a body.
func sseData(_ body: String) -> [String] {
    body.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
        event.hasPrefix("data: ") ? String(event.dropFirst(6)) : "<not data: \(event)>"
    }
}

/// Waits until a condition holds (polling), up to `seconds`.
func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
