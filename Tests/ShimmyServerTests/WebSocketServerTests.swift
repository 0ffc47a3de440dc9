import Foundation
import Shimmy
import Testing
@testable import ShimmyServer

extension TestClient {
    /// Performs the opening handshake; returns the response status and Sec-WebSocket-Accept.
    func upgrade(key: String = "dGhlIHNhbXBsZSBub25jZQ==") throws -> (Int, String?) {
        send("GET /ws/generate HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
             + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n")
        let (status, headers) = try readHead()
        return (status, headers.first { $0.0.lowercased() == "sec-websocket-accept" }?.1)
    }

    func sendFrame(_ frame: WebSocketFrame) { send(frame.encoded(maskingKey: [1, 2, 3, 4])) }

    /// Reads one server frame (unmasked).
    func readFrame() throws -> WebSocketFrame {
        let head = try readBytes(2)
        var length = Int(head[1] & 0x7F)
        if length == 126 { length = try readBytes(2).reduce(0) { $0 << 8 | Int($1) } }
        if length == 127 { length = try readBytes(8).reduce(0) { $0 << 8 | Int($1) } }
        let payload = try readBytes(length)
        return WebSocketFrame(fin: head[0] & 0x80 != 0, opcode: WebSocketOpcode(rawValue: head[0] & 0x0F) ?? .binary,
                              payload: payload)
    }

    func readJSONFrame() throws -> JSONValue? { try? JSONParser.parse(readFrame().payload) }
}

@Suite("WebSocket /ws/generate", .serialized)
struct WebSocketServerTests {
    @Test("handshake, token frames then done, ping/pong, a second request, close")
    func generate() throws {
        let server = try TestServer()
        let client = try server.client()
        let (status, accept) = try client.upgrade()
        #expect(status == 101)
        #expect(accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        for round in 0..<2 {
            client.sendFrame(.text(#"{"model": "default", "prompt": "Hello world \#(round)", "max_tokens": 4, "temperature": 0.7}"#))
            var tokens: [String] = []
            while let frame = try client.readJSONFrame(), let token = frame["token"]?.stringValue { tokens.append(token) }
            let request = try #require(server.session.lastRequest)
            #expect(tokens.joined() == server.session.expectedText(request), "round \(round): \(tokens)")
            #expect(request.maxTokens == 4)
        }
        client.sendFrame(WebSocketFrame(opcode: .ping, payload: Array("hi".utf8)))
        let pong = try client.readFrame()
        #expect(pong.opcode == .pong && pong.payload == Array("hi".utf8))
        client.sendFrame(.close(code: 1000))
        let close = try client.readFrame()
        #expect(close.opcode == .close && close.payload == [0x03, 0xE8])
        #expect(client.isClosedByServer())
    }

    @Test("the done frame is exactly {\"done\": true}; errors come as error objects and the socket stays open")
    func doneAndErrors() throws {
        let server = try TestServer()
        let client = try server.client()
        _ = try client.upgrade()
        client.sendFrame(.text(#"{"model": "nope", "prompt": "x"}"#))
        #expect(try client.readJSONFrame()?["error"]?["code"] == "model_not_found")
        client.sendFrame(.text("not json"))
        #expect(try client.readJSONFrame()?["error"]?["code"] == "invalid_request")
        client.sendFrame(.text(#"{"model": "tiny", "prompt": "x", "max_tokens": 1}"#))
        _ = try client.readFrame()
        #expect(try client.readJSONFrame() == ["done": true])
    }

    @Test("an unmasked client frame closes with 1002; a bad handshake gets 400 or 426 (with the version we speak)")
    func violations() throws {
        let server = try TestServer()
        let client = try server.client()
        _ = try client.upgrade()
        client.send(WebSocketFrame.text("x").encoded())
        let close = try client.readFrame()
        #expect(close.opcode == .close && close.payload.prefix(2) == [0x03, 0xEA])

        let plain = try server.client().request("GET", "/ws/generate")
        #expect(plain.status == 426 && plain.json?["error"]?["code"] == "invalid_request")
        let badVersion = try server.client().request("GET", "/ws/generate", headers: [
            "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 8",
        ])
        #expect(badVersion.status == 426 && badVersion.json?["error"]?["code"] == "invalid_request")
        #expect(badVersion.header("Sec-WebSocket-Version") == "13" && badVersion.header("Upgrade") == "websocket")
        let badKey = try server.client().request("GET", "/ws/generate", headers: [
            "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: short", "Sec-WebSocket-Version: 13",
        ])
        #expect(badKey.status == 400 && badKey.header("Sec-WebSocket-Version") == nil)
    }

    @Test("frames sent in the same write as the upgrade request are answered")
    func framesWithHandshake() throws {
        let server = try TestServer()
        let client = try server.client()
        let handshake = "GET /ws/generate HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let ping = WebSocketFrame(opcode: .ping, payload: Array("early".utf8)).encoded(maskingKey: [5, 6, 7, 8])
        let generate = WebSocketFrame.text(#"{"model": "tiny", "prompt": "x", "max_tokens": 2}"#).encoded(maskingKey: [1, 2, 3, 4])
        client.send(Array(handshake.utf8) + ping + generate)
        #expect(try client.readHead().0 == 101)
        let pong = try client.readFrame()
        #expect(pong.opcode == .pong && pong.payload == Array("early".utf8), "\(pong)")
        var frames: [JSONValue] = []
        while let frame = try client.readJSONFrame() {
            frames.append(frame)
            if frame["token"] == nil { break }
        }
        #expect(frames.count == 3 && frames.last == ["done": true], "\(frames)")
    }

    @Test("a close frame's code is echoed when valid; a reserved or unassigned one fails the connection with 1002",
          arguments: [(1000, 1000), (1001, 1001), (1011, 1011), (3000, 3000), (4999, 4999),
                      (999, 1002), (1004, 1002), (1005, 1002), (1006, 1002), (1015, 1002), (2999, 1002), (5000, 1002)])
    func closeCodes(sent: Int, answered: Int) throws {
        let server = try TestServer()
        let client = try server.client()
        _ = try client.upgrade()
        client.sendFrame(.close(code: UInt16(sent)))
        let close = try client.readFrame()
        #expect(close.opcode == .close)
        #expect(close.payload.count >= 2 && Int(close.payload[0]) << 8 | Int(close.payload[1]) == answered, "\(close.payload)")
        #expect(client.isClosedByServer())
    }

    @Test("an empty close frame gets a normal close")
    func emptyClose() throws {
        let server = try TestServer()
        let client = try server.client()
        _ = try client.upgrade()
        client.sendFrame(WebSocketFrame(opcode: .close))
        let close = try client.readFrame()
        #expect(close.opcode == .close && close.payload == [0x03, 0xE8])
        #expect(client.isClosedByServer())
    }

    @Test("a message begun must arrive within the request timeout: a trickle of its bytes gets a 1008 close")
    func trickledMessage() throws {
        let server = try TestServer { $0.requestTimeoutSeconds = 0.6; $0.idleTimeoutSeconds = 60 }
        let client = try server.client()
        _ = try client.upgrade()
        let frame = WebSocketFrame.text(String(repeating: "x", count: 40)).encoded(maskingKey: [1, 2, 3, 4])
        let started = Date()
        var closeFrame: WebSocketFrame?
        // one byte every 0.1 s: each read would restart an idle wait
        for byte in frame.prefix(20) {
            client.send([byte])
            Thread.sleep(forTimeInterval: 0.1)
            if client.isReadable() { closeFrame = try client.readFrame(); break }
        }
        let close = try closeFrame ?? client.readFrame()
        #expect(close.opcode == .close && close.payload.prefix(2) == [0x03, 0xF0], "\(close.payload)")  // 1008
        #expect(Date().timeIntervalSince(started) < 1.5)
    }

    @Test("messages queue behind a running generation, at most 16; the 17th closes with 1008")
    func queuedMessages() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", tokenDelay: .milliseconds(20))])
        let client = try server.client()
        _ = try client.upgrade()
        client.sendFrame(.text(#"{"model": "tiny", "prompt": "x", "max_tokens": 10000}"#))
        #expect(try client.readJSONFrame()?["token"] != nil)
        for _ in 0..<17 { client.sendFrame(.text(#"{"model": "tiny", "prompt": "y", "max_tokens": 1}"#)) }
        var frame = try client.readFrame()
        while frame.opcode != .close { frame = try client.readFrame() }
        #expect(frame.payload.prefix(2) == [0x03, 0xF0], "\(frame.payload)")  // 1008
    }

    @Test("closing the socket mid-generation cancels it")
    func disconnect() throws {
        let session = ScriptedSession(name: "tiny", tokenDelay: .milliseconds(20))
        let server = try TestServer([session])
        let client = try server.client()
        _ = try client.upgrade()
        client.sendFrame(.text(#"{"model": "tiny", "prompt": "x", "max_tokens": 10000}"#))
        _ = try client.readFrame()
        client.sendFrame(.close(code: 1001))
        #expect(eventually { session.cancellations == 1 }, "cancellations \(session.cancellations)")
    }
}
