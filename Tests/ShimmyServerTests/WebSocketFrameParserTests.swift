import Testing
@testable import ShimmyServer

@Suite("WebSocketFrameParser")
struct WebSocketFrameParserTests {
    let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]

    @Test("RFC 6455 accept value and SHA-1")
    func handshake() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let digest = SHA1.hash(Array("abc".utf8)).map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        #expect(digest == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test("masked text frame fed byte by byte, with the RFC's example bytes")
    func maskedText() throws {
        // RFC 6455 §5.7: a masked "Hello"
        let bytes: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        var parser = WebSocketFrameParser()
        var messages: [WebSocketMessage] = []
        for byte in bytes {
            parser.feed([byte])
            while let m = try parser.next() { messages.append(m) }
        }
        #expect(messages == [.text("Hello")])
    }

    @Test("many frames in one feed, then more: every message in order; isMidMessage while a frame or message is incomplete")
    func manyFramesAndMidMessage() throws {
        var parser = WebSocketFrameParser()
        var bytes: [UInt8] = []
        for i in 0..<5000 { bytes += WebSocketFrame.text("m\(i)").encoded(maskingKey: key) }
        let partial = WebSocketFrame.text("last").encoded(maskingKey: key)
        parser.feed(bytes + partial.prefix(3))
        var texts: [String] = []
        while let m = try parser.next() { if case .text(let t) = m { texts.append(t) } }
        #expect(texts.count == 5000 && texts.first == "m0" && texts.last == "m4999")
        #expect(parser.isMidMessage)
        parser.feed(partial.dropFirst(3))
        #expect(try parser.next() == .text("last"))
        #expect(!parser.isMidMessage)
        // the first fragment of a message leaves it mid-message until the last
        parser.feed(WebSocketFrame(fin: false, opcode: .text, payload: [0x61]).encoded(maskingKey: key))
        #expect(try parser.next() == nil && parser.isMidMessage)
        parser.feed(WebSocketFrame(fin: true, opcode: .continuation, payload: [0x62]).encoded(maskingKey: key))
        #expect(try parser.next() == .text("ab") && !parser.isMidMessage)
    }

    @Test("fragmented message with a ping in between; 16- and 64-bit lengths", arguments: [10, 300, 70_000])
    func fragments(size: Int) throws {
        let text = String(repeating: "x", count: size)
        let half = size / 2
        var bytes = WebSocketFrame(fin: false, opcode: .text, payload: Array(text.utf8.prefix(half))).encoded(maskingKey: key)
        bytes += WebSocketFrame(opcode: .ping, payload: [1, 2]).encoded(maskingKey: key)
        bytes += WebSocketFrame(fin: true, opcode: .continuation, payload: Array(text.utf8.dropFirst(half))).encoded(maskingKey: key)
        bytes += WebSocketFrame.close(code: 1000, reason: "bye").encoded(maskingKey: key)
        var parser = WebSocketFrameParser()
        parser.feed(bytes)
        var messages: [WebSocketMessage] = []
        while let m = try parser.next() { messages.append(m) }
        #expect(messages == [.ping([1, 2]), .text(text), .close(code: 1000, reason: "bye")])
    }

    @Test("protocol violations", arguments: [
        ([0x81, 0x02, 0x61, 0x62], UInt16(1002)),  // unmasked
        ([0xC1, 0x80, 0, 0, 0, 0], 1002),  // RSV1
        ([0x83, 0x80, 0, 0, 0, 0], 1002),  // reserved opcode
        ([0x09, 0x80, 0, 0, 0, 0], 1002),  // fragmented ping
        ([0x80, 0x80, 0, 0, 0, 0], 1002),  // continuation without a start
        ([0x81, 0xFF, 0, 0, 0, 0, 0, 0x20, 0, 0], 1009),  // 2 MiB frame
        ([0x81, 0x82, 0, 0, 0, 0, 0xC3, 0x28], 1007),  // invalid UTF-8
    ] as [([UInt8], UInt16)])
    func violations(bytes: [UInt8], closeCode: UInt16) {
        var parser = WebSocketFrameParser(maxMessageBytes: 1024 * 1024)
        parser.feed(bytes)
        do {
            let message = try parser.next()
            Issue.record("expected close code \(closeCode), got \(String(describing: message))")
        } catch {
            #expect(error.closeCode == closeCode, "\(error)")
        }
    }

    @Test("close codes: valid ones are returned, reserved and unassigned ones are a protocol error", arguments: [
        (1000, true), (1003, true), (1007, true), (1014, true), (3000, true), (4999, true),
        (0, false), (999, false), (1004, false), (1005, false), (1006, false), (1015, false), (1016, false),
        (2999, false), (5000, false), (65535, false),
    ])
    func closeCode(code: Int, valid: Bool) {
        var parser = WebSocketFrameParser()
        parser.feed(WebSocketFrame.close(code: UInt16(code), reason: "bye").encoded(maskingKey: key))
        do {
            let message = try parser.next()
            #expect(valid && message == .close(code: UInt16(code), reason: "bye"), "\(String(describing: message))")
        } catch {
            #expect(!valid && error.closeCode == 1002, "\(error)")
        }
    }
}
