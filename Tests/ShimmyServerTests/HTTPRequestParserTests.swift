import Testing
@testable import ShimmyServer

@Suite("HTTPRequestParser")
struct HTTPRequestParserTests {
    func parseAll(_ text: String, limits: HTTPLimits = HTTPLimits(), chunkSize: Int = Int.max) throws(HTTPParseError) -> [HTTPRequest] {
        var parser = HTTPRequestParser(limits: limits)
        var requests: [HTTPRequest] = []
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunkSize)
            parser.feed(bytes[offset..<end])
            offset = end
            while let request = try parser.next() { requests.append(request) }
        }
        return requests
    }

    @Test("GET with headers, fed in chunks of any size", arguments: [1, 2, 3, 7, 1000])
    func simpleGet(chunkSize: Int) throws {
        let requests = try parseAll("GET /api/models?x=1 HTTP/1.1\r\nHost: a\r\nX-Thing:  v \r\n\r\n", chunkSize: chunkSize)
        #expect(requests.count == 1, "got \(requests.count) requests")
        let r = try #require(requests.first)
        #expect(r.method == "GET")
        #expect(r.target == "/api/models?x=1")
        #expect(r.path == "/api/models")
        #expect(r.header("x-thing") == "v")
        #expect(r.keepAlive)
    }

    @Test("Content-Length body and pipelined requests", arguments: [1, 5, 1000])
    func contentLengthPipelined(chunkSize: Int) throws {
        let text = "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nConnection: close\r\n\r\n"
        let requests = try parseAll(text, chunkSize: chunkSize)
        #expect(requests.map(\.path) == ["/a", "/b"])
        #expect(requests.first?.body == Array("hello".utf8))
        #expect(requests.last?.keepAlive == false)
    }

    @Test("chunked body with extensions and trailers", arguments: [1, 4, 1000])
    func chunked(chunkSize: Int) throws {
        let text = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: t\r\n\r\n"
            + "GET /y HTTP/1.1\r\n\r\n"
        let requests = try parseAll(text, chunkSize: chunkSize)
        #expect(requests.count == 2)
        #expect(String(decoding: requests[0].body, as: UTF8.self) == "hello world")
        #expect(requests[1].path == "/y")
    }

    @Test("malformed input gives its own error and status", arguments: [
        ("GARBAGE\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\n\r\n", 505),
        ("GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY", 400),
    ])
    func malformed(text: String, status: Int) {
        do {
            let requests = try parseAll(text)
            Issue.record("expected an error with status \(status), parsed \(requests.count) requests")
        } catch {
            #expect(error.status == status, "\(error) for \(text.debugDescription)")
        }
    }

    @Test("chunk-size lines: hex digits in either case with any leading zeros, then whitespace or extensions",
          arguments: ["5", "05", String(repeating: "0", count: 40) + "5", "5 ", "5\t;a=b", "5 ; name=\"quoted; value\"", "5;x"])
    func chunkSizeLines(sizeLine: String) throws {
        let text = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\(sizeLine)\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\n"
        let requests = try parseAll(text)
        #expect(requests.first?.body == Array("hello0123456789".utf8), "\(sizeLine.debugDescription)")
    }

    @Test("chunk-size lines that are not 1*HEXDIG get 400 (sign, inner or leading space, 0x, bare LF, no digits)",
          arguments: ["+5", "-0", "3 0", " 5", "5 x", "0x5", "5;a\nb", ";5", ""])
    func malformedChunkSize(sizeLine: String) {
        malformed(text: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\(sizeLine)\r\nhello\r\n0\r\n\r\n", status: 400)
    }

    @Test("a chunk size too large for an Int gets 413, not an overflow")
    func hugeChunkSize() {
        malformed(text: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "f", count: 40) + "\r\n",
                  status: 413)
    }

    @Test("header and body limits")
    func limits() {
        let limits = HTTPLimits(maxHeaderBytes: 100, maxHeaderCount: 3, maxBodyBytes: 10)
        let cases: [(String, HTTPParseError)] = [
            ("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 200), .headersTooLarge(limit: 100)),
            ("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", .tooManyHeaders(limit: 3)),
            ("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", .bodyTooLarge(limit: 10)),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n", .bodyTooLarge(limit: 10)),
        ]
        for (text, expected) in cases {
            do {
                _ = try parseAll(text, limits: limits)
                Issue.record("no error for \(text.prefix(40).debugDescription)")
            } catch {
                #expect(error == expected, "got \(error), expected \(expected)")
            }
        }
    }

    @Test("header limit holds without the terminating blank line, in linear time")
    func hugeHeaderIsRejectedQuickly() {
        var parser = HTTPRequestParser(limits: HTTPLimits(maxHeaderBytes: 16 * 1024))
        parser.feed(Array("GET / HTTP/1.1\r\n".utf8))
        let start = ContinuousClock.now
        var failure: HTTPParseError?
        for _ in 0..<200 {
            parser.feed([UInt8](repeating: UInt8(ascii: "a"), count: 1000))
            do { _ = try parser.next() } catch { failure = error; break }
        }
        #expect(failure == .headersTooLarge(limit: 16 * 1024))
        #expect(ContinuousClock.now - start < .seconds(1), "took \(ContinuousClock.now - start)")
    }

    @Test("a few empty lines before a request line are skipped", arguments: [1, 3, 1000])
    func emptyLinesSkipped(chunkSize: Int) throws {
        let empty = String(repeating: "\r\n", count: HTTPRequestParser.maxEmptyLinesBeforeRequest)
        let requests = try parseAll(empty + "GET /a HTTP/1.1\r\n\r\n" + empty + "GET /b HTTP/1.1\r\n\r\n", chunkSize: chunkSize)
        #expect(requests.map(\.path) == ["/a", "/b"])
    }

    @Test("a stream of empty lines is refused with 400 long before the head limit, not buffered")
    func emptyLineStream() {
        let limit = HTTPRequestParser.maxEmptyLinesBeforeRequest
        var parser = HTTPRequestParser()
        var failure: HTTPParseError?
        var fed = 0
        while fed < 1024 * 1024, failure == nil {
            parser.feed([13, 10])
            fed += 2
            do { _ = try parser.next() } catch { failure = error }
        }
        #expect(failure == .tooManyEmptyLines(limit: limit), "fed \(fed) bytes")
        #expect(failure?.status == 400)
        #expect(fed == 2 * (limit + 1), "fed \(fed) bytes")
    }

    @Test("Expect: 100-continue is reported once, before the body")
    func expectContinue() throws {
        var parser = HTTPRequestParser()
        parser.feed(Array("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n".utf8))
        #expect(try parser.next() == nil)
        let first = parser.takeContinueRequest()
        let second = parser.takeContinueRequest()
        #expect(first && !second, "first \(first), second \(second)")
        parser.feed(Array("ok".utf8))
        #expect(try parser.next()?.body == Array("ok".utf8))
    }

    @Test("the bytes after an upgrade request can be taken, and the parser is empty after")
    func unparsedBytes() throws {
        var parser = HTTPRequestParser()
        parser.feed(Array("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n".utf8) + [0x81, 0x85, 1, 2])
        #expect(try parser.next()?.path == "/ws")
        #expect(parser.takeUnparsedBytes() == [0x81, 0x85, 1, 2])
        #expect(parser.isIdle && parser.takeUnparsedBytes().isEmpty)
    }

    @Test("idle state between requests")
    func idle() throws {
        var parser = HTTPRequestParser()
        #expect(parser.isIdle)
        parser.feed(Array("GET".utf8))
        #expect(!parser.isIdle)
        parser.feed(Array(" / HTTP/1.0\r\n\r\n".utf8))
        let request = try parser.next()
        #expect(request?.keepAlive == false, "HTTP/1.0 without keep-alive closes")
        #expect(parser.isIdle)
    }
}
