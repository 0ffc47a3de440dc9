import Foundation
import Logging
import Shimmy
import Testing
@testable import ShimmyServer

@Suite("HTTP/1.1 connection handling", .serialized)
struct HTTPProtocolTests {
    @Test("keep-alive: many requests on one connection, pipelined too")
    func keepAlive() throws {
        let server = try TestServer()
        let client = try server.client()
        for _ in 0..<5 { #expect(try client.request("GET", "/api/version").status == 200) }
        client.send("GET /health HTTP/1.1\r\n\r\nGET /api/version HTTP/1.1\r\n\r\n")
        #expect(try client.readResponse().json?["status"] == "healthy")
        #expect(try client.readResponse().json?["version"] == "1.1.0")
        #expect(server.server.connectionCount == 1)
    }

    @Test("Connection: close and HTTP/1.0 close after the response")
    func close() throws {
        let server = try TestServer()
        let client = try server.client()
        let response = try client.request("GET", "/health", headers: ["Connection: close"])
        #expect(response.header("Connection") == "close")
        #expect(client.isClosedByServer())
        let old = try server.client()
        old.send("GET /health HTTP/1.0\r\n\r\n")
        #expect(try old.readResponse().status == 200)
        #expect(old.isClosedByServer())
    }

    @Test("chunked request body, split across writes; Expect: 100-continue")
    func chunkedBody() throws {
        let server = try TestServer()
        let client = try server.client()
        let json = #"{"model": "tiny", "prompt": "a b", "max_tokens": 2}"#
        let bytes = Array(json.utf8)
        client.send("POST /api/generate HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
        #expect(try client.readLine() == "HTTP/1.1 100 Continue")
        _ = try client.readLine()
        client.send(String(10, radix: 16) + "\r\n" + String(decoding: bytes[0..<10], as: UTF8.self) + "\r\n")
        usleep(20_000)
        client.send(String(bytes.count - 10, radix: 16) + "\r\n" + String(decoding: bytes[10...], as: UTF8.self) + "\r\n0\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200, "\(response.text)")
        #expect(response.json?["usage"]?["completion_tokens"] == 2)
    }

    @Test("oversize headers get 431, oversize bodies 413, both with the error object and a closed connection")
    func limits() throws {
        let server = try TestServer { $0.limits = HTTPLimits(maxHeaderBytes: 1024, maxBodyBytes: 100) }
        let client = try server.client()
        client.send("GET /health HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 4000) + "\r\n\r\n")
        let big = try client.readResponse()
        #expect(big.status == 431)
        #expect(big.json?["error"]?["code"] == "invalid_request")
        #expect(client.isClosedByServer())

        let second = try server.client()
        let body = #"{"model": "tiny", "prompt": ""# + String(repeating: "x", count: 200) + #""}"#
        let tooLarge = try second.request("POST", "/api/generate", body: body)
        #expect(tooLarge.status == 413, "\(tooLarge.text)")
        #expect(tooLarge.json?["error"]?["code"] == "invalid_request")
    }

    @Test("a request that stalls gets 408; an idle connection is closed")
    func timeouts() throws {
        let server = try TestServer {
            $0.requestTimeoutSeconds = 0.3
            $0.idleTimeoutSeconds = 0.3
        }
        let stalled = try server.client()
        stalled.send("GET /health HTTP/1.1\r\nHost:")
        let response = try stalled.readResponse()
        #expect(response.status == 408)
        let idle = try server.client()
        let start = Date()
        #expect(idle.isClosedByServer())
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test("empty lines before a request: a few are skipped, a trickle is closed on time, a stream gets 400")
    func emptyLines() throws {
        let server = try TestServer {
            $0.requestTimeoutSeconds = 0.5
            $0.idleTimeoutSeconds = 0.5
        }
        let polite = try server.client()
        polite.send("\r\n\r\nGET /health HTTP/1.1\r\n\r\n")
        #expect(try polite.readResponse().status == 200)

        // each line comes sooner than the idle timeout; the first one starts the request timer
        let trickle = try server.client()
        let start = Date()
        var closedAfter: Double?
        for _ in 0..<HTTPRequestParser.maxEmptyLinesBeforeRequest {
            trickle.send("\r\n")
            usleep(300_000)
            if Socket.peerClosed(trickle.fd) {
                closedAfter = Date().timeIntervalSince(start)
                break
            }
        }
        #expect(closedAfter != nil, "still open after \(Date().timeIntervalSince(start)) s of empty lines")
        #expect(trickle.readToEnd().isEmpty, "an idle connection closes without an answer")

        let stream = try server.client()
        stream.send(String(repeating: "\r\n", count: 50_000))
        let response = try stream.readResponse()
        #expect(response.status == 400)
        #expect(response.json?["error"]?["code"] == "invalid_request")
        #expect(stream.isClosedByServer())
    }

    @Test("GET / says the server is running, in plain text")
    func root() throws {
        let server = try TestServer()
        let response = try server.client().request("GET", "/")
        #expect(response.status == 200 && response.text == "shimmy is running")
        #expect(response.header("Content-Type")?.hasPrefix("text/plain") == true)
    }

    @Test("HEAD answers as GET does, without the body: same status, same Content-Length")
    func head() throws {
        let server = try TestServer()
        let client = try server.client()
        for path in ["/v1/models", "/api/version", "/openapi.json", "/api/tags", "/health", "/nope", "/api/generate", "/ws/generate"] {
            let get = try client.request("GET", path)
            client.send("HEAD \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            let (status, headers) = try client.readHead()
            let head = RawResponse(status: status, headers: headers, body: [])
            #expect(status == get.status, "\(path)")
            #expect(head.header("Content-Type") == get.header("Content-Type"), "\(path)")
            // error details name the method, and the health answer's memory use moves
            if get.status == 200 && path != "/health" {
                #expect(head.header("Content-Length") == String(get.body.count), "\(path): \(headers)")
            }
        }
        // no body was sent after any HEAD answer: the next response on the connection reads cleanly
        #expect(try client.request("GET", "/api/version").json?["version"] == "1.1.0")
        // a 405 names HEAD beside GET where GET works
        #expect(try client.request("POST", "/api/tags", body: "{}").header("Allow") == "GET, HEAD")
        #expect(try client.request("GET", "/api/chat").header("Allow") == "POST")
    }

    @Test("every response carries a Date header, the current time as an IMF-fixdate")
    func dateHeader() throws {
        let server = try TestServer()
        let client = try server.client()
        let before = Int(time(nil))
        let responses = [
            try client.request("GET", "/api/version"),
            try client.request("GET", "/nope"),
            try client.request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "x", "max_tokens": 2, "stream": true}"#),
        ]
        let after = Int(time(nil))
        let expected = Set((before...after).map { HTTPDate.format(secondsSince1970: $0) })
        for response in responses {
            #expect(response.header("Date").map(expected.contains) == true, "\(response.header("Date") ?? "no Date") not in \(expected)")
        }
    }

    @Test("Date values", arguments: [
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"), (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"), (1_709_164_800, "Thu, 29 Feb 2024 00:00:00 GMT"),
        (4_102_444_799, "Thu, 31 Dec 2099 23:59:59 GMT"),
    ])
    func dateFormat(seconds: Int, text: String) {
        #expect(HTTPDate.format(secondsSince1970: seconds) == text)
    }

    @Test("malformed request line gets 400 and the error object")
    func malformed() throws {
        let server = try TestServer()
        let client = try server.client()
        client.send("NOT AN HTTP REQUEST\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 400)
        #expect(response.json?["error"]?["code"] == "invalid_request")
    }

    @Test("too many connections get 503")
    func connectionLimit() throws {
        let server = try TestServer { $0.maxConnections = 1 }
        let first = try server.client()
        #expect(try first.request("GET", "/health").status == 200)
        let second = try server.client()
        let response = try second.readResponse()
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "1")
    }
}

@Suite("HTTP/1.0 streaming")
struct HTTP10StreamingTests {
    @Test("an HTTP/1.0 client gets the SSE body without chunked framing, ended by the close")
    func http10Stream() throws {
        let server = try TestServer()
        let client = try server.client()
        let body = #"{"model": "tiny", "prompt": "p", "max_tokens": 3, "stream": true}"#
        client.send("POST /api/generate HTTP/1.0\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
        let (status, headers) = try client.readHead()
        #expect(status == 200)
        #expect(!headers.contains { $0.0 == "Transfer-Encoding" }, "\(headers)")
        let events = sseData(String(decoding: client.readToEnd(), as: UTF8.self))
        #expect(events.count == 4 && events.last == "[DONE]", "\(events)")
    }
}

/// Log records kept in memory.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [Logger.Metadata] = []
    func append(_ metadata: Logger.Metadata) { lock.withLock { records.append(metadata) } }
    /// The `path` of each request line logged.
    var paths: [String] { lock.withLock { records.compactMap { $0["path"].map { "\($0)" } } } }
}

struct CapturingLogHandler: LogHandler {
    let log: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
             function: String, line: UInt) {
        log.append(self.metadata.merging(metadata ?? [:]) { $1 })
    }
}

@Suite("request paths")
struct RequestPathTests {
    @Test("the request log escapes control characters a path decodes to, so a request cannot forge log lines")
    func logInjection() throws {
        let log = CapturedLog()
        let server = ShimmyHTTPServer(catalog: ScriptedCatalog([ScriptedSession(name: "tiny")]),
                                      configuration: ServerConfiguration(host: "127.0.0.1", port: 0),
                                      logger: Logger(label: "test") { _ in CapturingLogHandler(log: log) })
        try server.start()
        defer { server.stop() }
        #expect(try TestClient(port: server.port).request("GET", "/x%0A2026-11-24%20info%20forged%0D").status == 404)
        #expect(eventually { log.paths.contains(#"/x\n2026-11-24 info forged\r"#) }, "\(log.paths)")
        #expect(!log.paths.contains { $0.contains("\n") || $0.contains("\r") })
    }

    @Test("trailing slashes are dropped; a path of slashes alone is the root")
    func trailingSlashes() throws {
        let server = try TestServer()
        #expect(try server.client().request("GET", "/api/tags///").status == 200)
        let root = try server.client().request("GET", String(repeating: "/", count: 8_000))
        #expect(root.status == 200 && root.text == "shimmy is running", "\(root.status)")
    }
}
