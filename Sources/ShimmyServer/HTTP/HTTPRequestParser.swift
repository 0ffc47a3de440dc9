/// Why bytes were not a valid HTTP/1.1 request; each case knows its response status.
public enum HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request line and headers exceed the limit (431).
    case headersTooLarge(limit: Int)
    /// The body exceeds the limit (413).
    case bodyTooLarge(limit: Int)
    /// The request line is not `METHOD target HTTP/x.y` (400).
    case malformedRequestLine
    /// A header line is not `name: value` (400).
    case malformedHeader
    /// Too many header fields (431).
    case tooManyHeaders(limit: Int)
    /// Not HTTP/1.0 or HTTP/1.1 (505).
    case unsupportedVersion(String)
    /// Content-Length is not a number, repeated with different values, or sent with chunked (400).
    case invalidContentLength
    /// A Transfer-Encoding other than chunked (501).
    case unsupportedTransferEncoding(String)
    /// A chunk size line or chunk terminator is malformed (400).
    case invalidChunk
    /// More empty lines before a request line than a client plausibly sends between requests (400).
    case tooManyEmptyLines(limit: Int)

    /// The HTTP status to answer with.
    public var status: Int {
        switch self {
        case .headersTooLarge, .tooManyHeaders: return 431
        case .bodyTooLarge: return 413
        case .unsupportedVersion: return 505
        case .unsupportedTransferEncoding: return 501
        default: return 400
        }
    }

    public var description: String {
        switch self {
        case .headersTooLarge(let limit): return "request line and headers exceed \(limit) bytes"
        case .bodyTooLarge(let limit): return "request body exceeds \(limit) bytes"
        case .malformedRequestLine: return "malformed request line"
        case .malformedHeader: return "malformed header line"
        case .tooManyHeaders(let limit): return "more than \(limit) header fields"
        case .unsupportedVersion(let v): return "unsupported HTTP version '\(v)'"
        case .invalidContentLength: return "invalid Content-Length"
        case .unsupportedTransferEncoding(let te): return "unsupported Transfer-Encoding '\(te)'"
        case .invalidChunk: return "malformed chunked body"
        case .tooManyEmptyLines(let limit): return "more than \(limit) empty lines before the request line"
        }
    }
}

/// Limits the parser enforces.
public struct HTTPLimits: Sendable, Equatable {
    /// Most bytes of request line plus headers.
    public var maxHeaderBytes: Int
    /// Most header fields.
    public var maxHeaderCount: Int
    /// Most body bytes (after chunked decoding).
    public var maxBodyBytes: Int
    public init(maxHeaderBytes: Int = 16 * 1024, maxHeaderCount: Int = 100, maxBodyBytes: Int = 8 * 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}

/// An incremental HTTP/1.1 request parser: a pure function over bytes, fed in any chunking.
///
/// ```swift
/// var parser = HTTPRequestParser()
/// parser.feed(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
/// if let request = try parser.next() { print(request.path) }
/// ```
/// Each byte is scanned a bounded number of times, so huge headers cost linear time.
public struct HTTPRequestParser: Sendable {
    private enum ChunkState: Sendable { case size, data(remaining: Int), dataEnd, trailer }
    private enum State: Sendable {
        case head(scanFrom: Int)
        case body(HTTPRequest, remaining: Int)
        case chunked(HTTPRequest, ChunkState)
    }

    /// Empty lines tolerated before a request line (RFC 9112 §2.2 asks servers to ignore at least one); more is
    /// not a client between requests but a stream that would otherwise never become a request.
    public static let maxEmptyLinesBeforeRequest = 8

    public let limits: HTTPLimits
    private var buffer: [UInt8] = []
    /// Empty lines skipped since the last request.
    private var emptyLines = 0
    /// Bytes of `buffer` already consumed by the request in progress.
    private var position = 0
    private var state: State = .head(scanFrom: 0)
    private var continuePending = false

    public init(limits: HTTPLimits = HTTPLimits()) { self.limits = limits }

    /// Appends received bytes.
    public mutating func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 { buffer.append(contentsOf: bytes) }

    /// True when no partial request is buffered (a connection may close here silently).
    public var isIdle: Bool {
        if case .head = state { return buffer[position...].allSatisfy { $0 == 13 || $0 == 10 } }
        return false
    }

    /// Takes the bytes received after the last complete request and empties the parser: the first frames of a
    /// WebSocket that arrived with its upgrade request.
    public mutating func takeUnparsedBytes() -> [UInt8] {
        let rest = Array(buffer[position...])
        buffer = []
        position = 0
        state = .head(scanFrom: 0)
        emptyLines = 0
        return rest
    }

    /// True once after the head of a request with `Expect: 100-continue` whose body has not fully arrived.
    public mutating func takeContinueRequest() -> Bool {
        defer { continuePending = false }
        return continuePending
    }

    /// The next complete request, nil if more bytes are needed; throws when the bytes cannot be a request.
    public mutating func next() throws(HTTPParseError) -> HTTPRequest? {
        while true {
            switch state {
            case .head(let scanFrom):
                // skip empty lines between requests, a few at most
                while position + 1 < buffer.count, buffer[position] == 13, buffer[position + 1] == 10 {
                    emptyLines += 1
                    if emptyLines > Self.maxEmptyLinesBeforeRequest {
                        throw .tooManyEmptyLines(limit: Self.maxEmptyLinesBeforeRequest)
                    }
                    position += 2
                }
                guard let end = findHeadEnd(from: max(scanFrom, position)) else {
                    // a head at the limit may still be waiting for up to 3 bytes of its CRLFCRLF
                    if buffer.count - position > limits.maxHeaderBytes + 3 {
                        throw .headersTooLarge(limit: limits.maxHeaderBytes)
                    }
                    state = .head(scanFrom: max(position, buffer.count - 3))
                    compact()
                    return nil
                }
                if end - position > limits.maxHeaderBytes { throw .headersTooLarge(limit: limits.maxHeaderBytes) }
                let head = try parseHead(buffer[position..<end])
                position = end + 4
                let framing = try bodyFraming(of: head)
                switch framing {
                case .none: return complete(head)
                case .length(let length):
                    if length > limits.maxBodyBytes { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
                    state = .body(head, remaining: length)
                case .chunked:
                    state = .chunked(head, .size)
                }
                if head.header("Expect")?.lowercased() == "100-continue" { continuePending = true }
            case .body(var request, let remaining):
                let available = min(remaining, buffer.count - position)
                request.body.append(contentsOf: buffer[position..<position + available])
                position += available
                if available == remaining {
                    continuePending = false
                    return complete(request)
                }
                state = .body(request, remaining: remaining - available)
                compact()
                return nil
            case .chunked(var request, let chunk):
                switch try advanceChunked(&request, chunk) {
                case .some(let next):
                    state = .chunked(request, next)
                    compact()
                    return nil
                case .none:
                    continuePending = false
                    return complete(request)
                }
            }
        }
    }

    private enum Framing { case none, length(Int), chunked }

    private mutating func complete(_ request: HTTPRequest) -> HTTPRequest {
        state = .head(scanFrom: position)
        emptyLines = 0
        compact()
        return request
    }

    /// Drops consumed bytes once they dominate the buffer.
    private mutating func compact() {
        guard position > 4096, position * 2 > buffer.count else { return }
        buffer.removeFirst(position)
        if case .head(let scanFrom) = state { state = .head(scanFrom: max(0, scanFrom - position)) }
        position = 0
    }

    private func findHeadEnd(from start: Int) -> Int? {
        var i = start
        while i + 3 < buffer.count {
            if buffer[i + 3] != 10 { i += buffer[i + 3] == 13 ? 1 : 4; continue }
            if buffer[i] == 13, buffer[i + 1] == 10, buffer[i + 2] == 13 { return i }
            i += 1
        }
        return nil
    }

    private func parseHead(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPRequest {
        var lines = splitLines(bytes)
        guard !lines.isEmpty else { throw .malformedRequestLine }
        let requestLine = lines.removeFirst()
        let parts = requestLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty,
            parts[0].allSatisfy(isTokenCharacter), parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { throw .malformedRequestLine }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version.hasPrefix("HTTP/") else { throw .malformedRequestLine }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { throw .unsupportedVersion(version) }
        guard lines.count <= limits.maxHeaderCount else { throw .tooManyHeaders(limit: limits.maxHeaderCount) }
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(lines.count)
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                throw .malformedHeader
            }
            let name = line[line.startIndex..<colon]
            guard name.allSatisfy(isTokenCharacter) else { throw .malformedHeader }
            var value = line[(colon + 1)...]
            while let first = value.first, first == 32 || first == 9 { value = value.dropFirst() }
            while let last = value.last, last == 32 || last == 9 { value = value.dropLast() }
            guard value.allSatisfy({ $0 == 9 || $0 >= 32 && $0 != 127 }) else { throw .malformedHeader }
            headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        return HTTPRequest(method: String(decoding: parts[0], as: UTF8.self),
                           target: String(decoding: parts[1], as: UTF8.self), version: version, headers: headers)
    }

    private func splitLines(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == 13, i + 1 < bytes.endIndex, bytes[i + 1] == 10 {
                lines.append(bytes[start..<i])
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        lines.append(bytes[start..<bytes.endIndex])
        return lines
    }

    private func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default: return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    private func bodyFraming(of head: HTTPRequest) throws(HTTPParseError) -> Framing {
        let encodings = head.headers.filter { $0.name.lowercased() == "transfer-encoding" }.map { $0.value }
        let lengths = head.headers.filter { $0.name.lowercased() == "content-length" }.map { $0.value }
        if !encodings.isEmpty {
            let codings = encodings.joined(separator: ",").lowercased().split(separator: ",")
                .map { $0.trimmingCharacters(in: " \t") }
            guard codings == ["chunked"] else { throw .unsupportedTransferEncoding(codings.joined(separator: ", ")) }
            guard lengths.isEmpty else { throw .invalidContentLength }
            return .chunked
        }
        guard let first = lengths.first else { return .none }
        let values = Set(lengths.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: " \t") } })
        guard values.count == 1, first.utf8.count <= 18, let only = values.first, !only.isEmpty,
            only.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let length = Int(only)
        else { throw .invalidContentLength }
        return length == 0 ? .none : .length(length)
    }

    /// Consumes what it can of a chunked body; nil when the body (and trailers) are complete.
    private mutating func advanceChunked(_ request: inout HTTPRequest, _ start: ChunkState)
        throws(HTTPParseError) -> ChunkState?
    {
        var chunk = start
        while true {
            switch chunk {
            case .size:
                guard let lineEnd = findCRLF(from: position, limit: 1024) else {
                    if buffer.count - position > 1024 + 1 { throw .invalidChunk }  // + a pending CR
                    return chunk
                }
                guard let size = Self.chunkSize(buffer[position..<lineEnd]) else { throw .invalidChunk }
                position = lineEnd + 2
                if size == 0 {
                    chunk = .trailer
                } else {
                    if size > limits.maxBodyBytes - request.body.count {
                        throw .bodyTooLarge(limit: limits.maxBodyBytes)
                    }
                    chunk = .data(remaining: size)
                }
            case .data(let remaining):
                let available = min(remaining, buffer.count - position)
                request.body.append(contentsOf: buffer[position..<position + available])
                position += available
                if available < remaining { return .data(remaining: remaining - available) }
                chunk = .dataEnd
            case .dataEnd:
                guard buffer.count - position >= 2 else { return chunk }
                guard buffer[position] == 13, buffer[position + 1] == 10 else { throw .invalidChunk }
                position += 2
                chunk = .size
            case .trailer:
                guard let lineEnd = findCRLF(from: position, limit: limits.maxHeaderBytes) else {
                    if buffer.count - position > limits.maxHeaderBytes + 1 {  // + a pending CR
                        throw .headersTooLarge(limit: limits.maxHeaderBytes)
                    }
                    return chunk
                }
                let empty = lineEnd == position
                position = lineEnd + 2
                if empty { return nil }
            }
        }
    }

    /// The size on a chunk-size line, `1*HEXDIG [BWS] [";" chunk-ext]` (RFC 9112 §7.1), or nil when the line is
    /// anything else (a sign, inner spaces, `0x`). Sizes too large for an `Int` come back as `Int.max`, which the body
    /// limit refuses. Extensions are ignored, but may not hide control characters such as a bare LF.
    static func chunkSize(_ line: ArraySlice<UInt8>) -> Int? {
        var size = 0
        var index = line.startIndex
        while index < line.endIndex, let digit = hexValue(line[index]) {
            size = size > Int.max >> 4 ? Int.max : size << 4 | Int(digit)
            index += 1
        }
        guard index > line.startIndex else { return nil }
        while index < line.endIndex, line[index] == 32 || line[index] == 9 { index += 1 }
        guard index == line.endIndex || line[index] == UInt8(ascii: ";"),
            line[index...].allSatisfy({ $0 == 9 || $0 >= 32 && $0 != 127 })
        else { return nil }
        return size
    }

    private func findCRLF(from start: Int, limit: Int) -> Int? {
        var i = start
        let end = min(buffer.count - 1, start + limit + 1)
        while i < end {
            if buffer[i] == 13, buffer[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String { String(self).trimmingCharacters(in: set) }
}
