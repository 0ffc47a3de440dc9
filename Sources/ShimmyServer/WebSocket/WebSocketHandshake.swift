/// The server side of the RFC 6455 opening handshake.
public enum WebSocketHandshake {
    /// The GUID RFC 6455 appends to the client's key.
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`.
    public static func acceptValue(forKey key: String) -> String {
        base64(SHA1.hash(Array((key + guid).utf8)))
    }

    /// Why an upgrade request is refused, and how to answer.
    public struct Rejection: Sendable {
        /// What is wrong with the request.
        public var reason: String
        /// 426 Upgrade Required for a request without `Upgrade` or with another WebSocket version, 400 otherwise.
        public var status: Int
        /// `Upgrade: websocket` with a 426, and `Sec-WebSocket-Version: 13` for another version (RFC 6455 §4.4).
        public var headers: [(name: String, value: String)]
    }

    /// Why an upgrade request is not a valid WebSocket handshake, or nil when it is.
    public static func rejection(of request: HTTPRequest) -> Rejection? {
        let upgrade = (name: "Upgrade", value: "websocket")
        func reject(_ reason: String) -> Rejection {
            request.header("Upgrade") == nil
                ? Rejection(reason: reason, status: 426, headers: [upgrade])
                : Rejection(reason: reason, status: 400, headers: [])
        }
        guard request.method == "GET" else { return reject("WebSocket handshake must use GET") }
        guard request.header("Upgrade")?.lowercased() == "websocket" else { return reject("missing 'Upgrade: websocket'") }
        guard let connection = request.header("Connection")?.lowercased(),
            connection.split(separator: ",").contains(where: { $0.trimmingCharacters(in: " \t") == "upgrade" })
        else { return reject("missing 'Connection: Upgrade'") }
        guard request.header("Sec-WebSocket-Version") == "13" else {
            return Rejection(reason: "Sec-WebSocket-Version must be 13", status: 426,
                             headers: [upgrade, ("Sec-WebSocket-Version", "13")])
        }
        guard let key = request.header("Sec-WebSocket-Key"), key.utf8.count == 24 else {
            return reject("missing or malformed Sec-WebSocket-Key")
        }
        return nil
    }

    /// The `101 Switching Protocols` response bytes.
    public static func response(forKey key: String) -> [UInt8] {
        Array(("HTTP/1.1 101 Switching Protocols\r\nDate: \(HTTPDate.now)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(acceptValue(forKey: key))\r\n\r\n").utf8)
    }

    /// Standard base64 with padding.
    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            out.append(i + 1 < bytes.count ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// SHA-1 (FIPS 180-4), needed only for the handshake's accept value.
enum SHA1 {
    static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
        var data = message
        let bitLength = UInt64(message.count) * 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        var w = [UInt32](repeating: 0, count: 80)
        for block in stride(from: 0, to: data.count, by: 64) {
            for t in 0..<16 {
                let j = block + t * 4
                w[t] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
            }
            for t in 16..<80 { w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1) }
            var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
            for t in 0..<80 {
                let f: UInt32
                let k: UInt32
                switch t {
                case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
                case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
                case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
                default: f = b ^ c ^ d; k = 0xCA62_C1D6
                }
                let temp = rotl(a, 5) &+ f &+ e &+ k &+ w[t]
                e = d; d = c; c = rotl(b, 30); b = a; a = temp
            }
            h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e
        }
        return h.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> UInt32(24 - $0 * 8)) } }
    }

    private static func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }
}
