/// A complete (non-streaming) HTTP response.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Extra header fields; Content-Length, Connection and Date are added when serialized.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response.
    public static func json(_ value: JSONValue, status: Int = 200, headers: [(name: String, value: String)] = [])
        -> HTTPResponse
    {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers,
                     body: value.serializedBytes)
    }

    /// The status line and the Date header every response starts with.
    static func statusLine(_ status: Int) -> String {
        "HTTP/1.1 \(status) \(HTTPStatus.reason(status))\r\nDate: \(HTTPDate.now)\r\n"
    }

    /// Status line, headers and body in one buffer, ready for a single `send`; `omitBody` for an answer to HEAD
    /// (the headers, Content-Length included, stay those of the GET answer).
    public func serialized(keepAlive: Bool, omitBody: Bool = false) -> [UInt8] {
        var head = Self.statusLine(status)
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        head += "Content-Length: \(body.count)\r\n"
        head += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n"
        head += "\r\n"
        var bytes = Array(head.utf8)
        if !omitBody { bytes.append(contentsOf: body) }
        return bytes
    }

    /// The head of a streaming response: chunked transfer encoding, or (HTTP/1.0) a body that the close ends.
    public static func streamingHead(status: Int = 200, contentType: String,
                                     headers: [(name: String, value: String)] = [], keepAlive: Bool = true,
                                     chunked: Bool = true) -> [UInt8]
    {
        var head = statusLine(status)
        head += "Content-Type: \(contentType)\r\n"
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        head += chunked ? "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n" : "Cache-Control: no-cache\r\n"
        head += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        return Array(head.utf8)
    }

    /// One chunk of a chunked body (`size CRLF data CRLF`); empty data gives the last chunk.
    public static func chunk(_ data: [UInt8]) -> [UInt8] {
        if data.isEmpty { return Array("0\r\n\r\n".utf8) }
        var bytes = Array((String(data.count, radix: 16) + "\r\n").utf8)
        bytes.append(contentsOf: data)
        bytes.append(contentsOf: [13, 10])
        return bytes
    }
}

/// Reason phrases for the statuses the server sends.
public enum HTTPStatus {
    /// The reason phrase of a status code.
    public static func reason(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 204: return "No Content"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Content Too Large"
        case 415: return "Unsupported Media Type"
        case 426: return "Upgrade Required"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }
}
