/// Why bytes are not a valid client frame stream; each maps to a close code.
public enum WebSocketParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Reserved bits set, unknown opcode, unmasked client frame, fragmented or long control frame (1002).
    case protocolError(String)
    /// A frame or reassembled message above the limit (1009).
    case messageTooLarge(limit: Int)
    /// A text message that is not UTF-8 (1007).
    case invalidUTF8

    /// The close status code to send.
    public var closeCode: UInt16 {
        switch self {
        case .protocolError: return 1002
        case .messageTooLarge: return 1009
        case .invalidUTF8: return 1007
        }
    }

    public var description: String {
        switch self {
        case .protocolError(let reason): return "WebSocket protocol error: \(reason)"
        case .messageTooLarge(let limit): return "WebSocket message exceeds \(limit) bytes"
        case .invalidUTF8: return "WebSocket text message is not valid UTF-8"
        }
    }
}

/// A complete message or control frame from the client.
public enum WebSocketMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// The close code (nil when none was sent) and reason.
    case close(code: UInt16?, reason: String)
}

/// An incremental parser of client-to-server frames: a pure function over bytes. It unmasks payloads,
/// reassembles fragmented messages and enforces RFC 6455's rules for clients.
///
/// ```swift
/// var parser = WebSocketFrameParser()
/// parser.feed(bytes)
/// while let message = try parser.next() { ... }
/// ```
public struct WebSocketFrameParser: Sendable {
    /// Largest message accepted, after reassembly.
    public let maxMessageBytes: Int
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` before this index are parsed (dropped at the next `feed`, so many small frames in one read
    /// cost no shifting of the rest each).
    private var start = 0
    private var fragments: [UInt8] = []
    private var fragmentOpcode: WebSocketOpcode?

    public init(maxMessageBytes: Int = 1024 * 1024) { self.maxMessageBytes = maxMessageBytes }

    /// Appends received bytes.
    public mutating func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Whether part of a frame or of a fragmented message has arrived and its rest has not.
    public var isMidMessage: Bool { start < buffer.count || fragmentOpcode != nil }

    /// The next whole message or control frame, nil when more bytes are needed.
    public mutating func next() throws(WebSocketParseError) -> WebSocketMessage? {
        while let frame = try nextFrame() {
            if frame.opcode.isControl {
                switch frame.opcode {
                case .ping: return .ping(frame.payload)
                case .pong: return .pong(frame.payload)
                default:
                    if frame.payload.isEmpty { return .close(code: nil, reason: "") }
                    guard frame.payload.count >= 2 else { throw .protocolError("close payload of one byte") }
                    let code = UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1])
                    guard Self.isValidCloseCode(code) else { throw .protocolError("invalid close code \(code)") }
                    guard let reason = String(validating: frame.payload[2...], as: UTF8.self) else { throw .invalidUTF8 }
                    return .close(code: code, reason: reason)
                }
            }
            if frame.opcode == .continuation {
                guard fragmentOpcode != nil else { throw .protocolError("continuation without a message") }
            } else {
                guard fragmentOpcode == nil else { throw .protocolError("new message inside a fragmented one") }
                fragmentOpcode = frame.opcode
            }
            guard fragments.count + frame.payload.count <= maxMessageBytes else {
                throw .messageTooLarge(limit: maxMessageBytes)
            }
            fragments.append(contentsOf: frame.payload)
            guard frame.fin, let opcode = fragmentOpcode else { continue }
            let payload = fragments
            fragments = []
            fragmentOpcode = nil
            if opcode == .text {
                guard let text = String(validating: payload, as: UTF8.self) else { throw .invalidUTF8 }
                return .text(text)
            }
            return .binary(payload)
        }
        return nil
    }

    /// Whether a peer may send this close code (RFC 6455 §7.4 and the IANA registry): 1000-1003 and 1007-1014 are
    /// defined, 3000-4999 for libraries and applications; 1004-1006 and 1015 are reserved (never sent), the rest
    /// unassigned.
    public static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }

    /// One frame off the buffer, unmasked.
    private mutating func nextFrame() throws(WebSocketParseError) -> WebSocketFrame? {
        let available = buffer.count - start
        guard available >= 2 else { return nil }
        let first = buffer[start]
        let second = buffer[start + 1]
        guard first & 0x70 == 0 else { throw .protocolError("reserved bits set") }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else { throw .protocolError("unknown opcode") }
        let fin = first & 0x80 != 0
        guard second & 0x80 != 0 else { throw .protocolError("client frame not masked") }
        var length = UInt64(second & 0x7F)
        var offset = 2
        if length == 126 {
            guard available >= 4 else { return nil }
            length = UInt64(buffer[start + 2]) << 8 | UInt64(buffer[start + 3])
            offset = 4
        } else if length == 127 {
            guard available >= 10 else { return nil }
            length = buffer[(start + 2)..<(start + 10)].reduce(0) { $0 << 8 | UInt64($1) }
            guard length >> 63 == 0 else { throw .protocolError("length with the high bit set") }
            offset = 10
        }
        if opcode.isControl {
            guard fin else { throw .protocolError("fragmented control frame") }
            guard length <= 125 else { throw .protocolError("control frame longer than 125 bytes") }
        }
        guard length <= UInt64(maxMessageBytes) else { throw .messageTooLarge(limit: maxMessageBytes) }
        let total = offset + 4 + Int(length)
        guard available >= total else { return nil }
        let key = Array(buffer[(start + offset)..<(start + offset + 4)])
        var payload = Array(buffer[(start + offset + 4)..<(start + total)])
        for i in payload.indices { payload[i] ^= key[i & 3] }
        start += total
        return WebSocketFrame(fin: fin, opcode: opcode, payload: payload)
    }
}
