import Foundation
import Shimmy
import Synchronization
import Testing
@testable import ShimmyServer

@Suite("graceful shutdown (SIGINT/SIGTERM in serve)", .serialized)
struct GracefulShutdownTests {
    /// Starts a streamed generation of `tokens` tokens on a new connection and reads its head and first chunk.
    func startStream(_ server: TestServer, tokens: Int) throws -> TestClient {
        let client = try server.streamingClient(maxTokens: tokens)
        _ = try client.readChunk()
        return client
    }

    @Test("requests in progress finish whole; idle connections close; new ones are refused")
    func drain() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", tokenDelay: .milliseconds(10))])
        let streaming = try startStream(server, tokens: 40)
        // an idle keep-alive connection, after one answered request
        let idle = try server.client()
        #expect(try idle.request("GET", "/health").status == 200)
        let finished = Mutex(Bool?.none)
        let thread = Thread { finished.withLock { $0 = server.server.shutdown(gracePeriod: 10) } }
        thread.start()
        #expect(eventually { server.server.context.connections.isDraining })
        #expect(idle.isClosedByServer())
        #expect(throws: (any Error).self) { try TestClient(port: server.port) }
        // the stream goes on to its end: every token, the [DONE] and the last chunk
        var body: [UInt8] = []
        while true {
            let chunk = try streaming.readChunk()
            if chunk.isEmpty { break }
            body += chunk
        }
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.hasSuffix("data: [DONE]\n\n"), "\(text.suffix(80))")
        #expect(sseData(text).count == 40, "\(sseData(text).count) events after the first")
        #expect(streaming.isClosedByServer())
        #expect(eventually { finished.withLock { $0 } == true })
        #expect(server.session.cancellations == 0)
    }

    @Test("a response that starts during the drain closes its connection")
    func responseDuringDrain() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", tokenDelay: .milliseconds(10))])
        let streaming = try startStream(server, tokens: 1_000)
        // a request that is already on its way (its first bytes claimed the connection) when the drain begins
        let late = try server.client()
        late.send("POST /api/generate HTTP/1.1\r\nContent-Length: 40\r\n\r\n")
        #expect(eventually { server.server.connectionCount == 2 })
        Thread.sleep(forTimeInterval: 0.1)
        let thread = Thread { server.server.shutdown(gracePeriod: 10) }
        thread.start()
        #expect(eventually { server.server.context.connections.isDraining })
        late.send(#"{"model": "tiny", "prompt": "q"}"#.padding(toLength: 40, withPad: " ", startingAt: 0))
        let answer = try late.readResponse()
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.header("Connection")?.lowercased() == "close")
        #expect(late.isClosedByServer())
        streaming.closeNow()
    }

    @Test("a whole (not streamed) response made while the drain began closes its connection")
    func wholeResponseDuringDrain() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", tokenDelay: .milliseconds(20))])
        let client = try server.client()
        let body = #"{"model": "tiny", "prompt": "p", "max_tokens": 20}"#
        client.send("POST /api/generate HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
        Thread.sleep(forTimeInterval: 0.1)
        let thread = Thread { server.server.shutdown(gracePeriod: 10) }
        thread.start()
        let answer = try client.readResponse()
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.header("Connection")?.lowercased() == "close")
        #expect(client.isClosedByServer())
    }

    @Test("past the grace period what is left is cut and its generation cancelled")
    func gracePeriodEnds() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", tokenDelay: .milliseconds(20))])
        let streaming = try startStream(server, tokens: 100_000)
        let start = ContinuousClock.now
        #expect(server.server.shutdown(gracePeriod: 0.3) == false)
        #expect(start.secondsAgo >= 0.3 && start.secondsAgo < 5)
        #expect(streaming.isClosedByServer())
        #expect(eventually { server.session.cancellations == 1 })
    }

    @Test("an idle WebSocket gets close 1001; one mid-generation finishes it first")
    func webSockets() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", tokenDelay: .milliseconds(10))])
        let idle = try server.client()
        #expect(try idle.upgrade().0 == 101)
        let busy = try server.client()
        #expect(try busy.upgrade().0 == 101)
        busy.sendFrame(.text(#"{"model": "tiny", "prompt": "p", "max_tokens": 30}"#))
        #expect(try busy.readJSONFrame()?["token"] != nil)
        // two more wait behind it: the drain does not start them
        for _ in 0..<2 { busy.sendFrame(.text(#"{"model": "tiny", "prompt": "q", "max_tokens": 5}"#)) }
        Thread.sleep(forTimeInterval: 0.05)
        let thread = Thread { server.server.shutdown(gracePeriod: 10) }
        thread.start()
        let close = try idle.readFrame()
        #expect(close.opcode == .close && Array(close.payload.prefix(2)) == [0x03, 0xE9])
        var tokens = 1
        var last: JSONValue?
        while let frame = try busy.readJSONFrame() {
            last = frame
            if frame["token"] == nil { break }
            tokens += 1
        }
        #expect(tokens == 30 && last?["done"] == true, "\(tokens) tokens, then \(String(describing: last))")
        let busyClose = try busy.readFrame()
        #expect(busyClose.opcode == .close && Array(busyClose.payload.prefix(2)) == [0x03, 0xE9])
    }

    @Test("stop() during a drain ends it at once")
    func stopDuringDrain() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", tokenDelay: .milliseconds(20))])
        let streaming = try startStream(server, tokens: 100_000)
        let finished = Mutex(Bool?.none)
        let start = ContinuousClock.now
        let thread = Thread { finished.withLock { $0 = server.server.shutdown(gracePeriod: 60) } }
        thread.start()
        #expect(eventually { server.server.context.connections.isDraining })
        server.server.stop()
        #expect(eventually { finished.withLock { $0 } == false })
        #expect(start.secondsAgo < 10)
        #expect(streaming.isClosedByServer())
    }
}
