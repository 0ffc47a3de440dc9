import Foundation
import Shimmy
import Testing
@testable import ShimmyServer

@Suite("generation slots, cancellation, isolation", .serialized)
struct ConcurrencyTests {
    @Test("beyond --parallel plus the queue: 503 with Retry-After and the error object")
    func overCapacity() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", tokenDelay: .milliseconds(20))]) {
            $0.parallel = 1
            $0.maxQueued = 0
            $0.retryAfterSeconds = 2
        }
        let busy = try server.client()
        busy.send("POST /api/generate HTTP/1.1\r\nContent-Length: 55\r\n\r\n"
                  + #"{"model": "tiny", "prompt": "p", "stream": true}"#.padding(toLength: 55, withPad: " ", startingAt: 0))
        let (status, _) = try busy.readHead()
        #expect(status == 200)
        _ = try busy.readChunk()
        let refused = try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "q"}"#)
        #expect(refused.status == 503, "\(refused.text)")
        #expect(refused.header("Retry-After") == "2")
        #expect(refused.json?["error"]?["code"] == "server_busy")
        // a request that is not a generation is still served
        #expect(try server.client().request("GET", "/health").status == 200)
    }

    @Test("a client that leaves keeps its slot taken until its generation has really stopped")
    func slotHeldUntilStopped() throws {
        // the session takes 0.8 s to stop (a long prompt batch in a real engine)
        let session = ScriptedSession(name: "tiny", tokenDelay: .milliseconds(10), stopLatency: .milliseconds(800))
        let server = try TestServer([session]) {
            $0.parallel = 1
            $0.maxQueued = 0
        }
        let leaving = try server.streamingClient()
        leaving.closeNow()
        Thread.sleep(forTimeInterval: 0.3)
        // the server has seen the client go (it polls every 50 ms), but the generation still runs: no slot is free
        #expect(server.server.context.limiter.load.running == 1)
        let refused = try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "q"}"#)
        #expect(refused.status == 503, "\(refused.text)")
        #expect(eventually { server.server.context.limiter.load.running == 0 })
        #expect(session.cancellations == 1)
        #expect(try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "q"}"#).status == 200)
    }

    @Test("a queued request whose client went away gives its place up")
    func abandonedQueuePlace() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", tokenDelay: .milliseconds(20))]) {
            $0.parallel = 1
            $0.maxQueued = 1
        }
        let busy = try server.streamingClient()
        let body = #"{"model": "tiny", "prompt": "p", "max_tokens": 100000, "stream": true}"#
        // a second request waits in the queue, then its client leaves
        let queued = try server.client()
        queued.send("POST /api/generate HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
        let deadline = Date(timeIntervalSinceNow: 5)
        while server.server.context.limiter.load.waiting < 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(server.server.context.limiter.load.waiting == 1)
        queued.closeNow()
        while server.server.context.limiter.load.waiting > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        // its place is free: the next request queues (and gets its answer when `busy` leaves) instead of a 503
        let next = try server.client()
        next.send("POST /api/generate HTTP/1.1\r\nContent-Length: 40\r\n\r\n"
                  + #"{"model": "tiny", "prompt": "q"}"#.padding(toLength: 40, withPad: " ", startingAt: 0))
        Thread.sleep(forTimeInterval: 0.3)
        busy.closeNow()
        let answer = try next.readResponse()
        #expect(answer.status == 200, "\(answer.text)")
    }

    @Test("GenerationLimiter: a waiting caller leaves the queue when abandoned says so")
    func limiterAbandon() {
        let limiter = GenerationLimiter(parallel: 1, maxQueued: 1)
        #expect(limiter.acquire() == .admitted)
        #expect(limiter.acquire(abandoned: { true }) == .abandoned)
        #expect(limiter.load.waiting == 0 && limiter.load.running == 1)
        limiter.release()
        #expect(limiter.acquire() == .admitted)
    }

    @Test("queued requests wait for a slot instead of failing")
    func queued() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", tokenDelay: .milliseconds(5))]) {
            $0.parallel = 1
            $0.maxQueued = 4
        }
        let statuses = ResultCollector<Int>()
        DispatchQueue.concurrentPerform(iterations: 3) { i in
            let status = (try? server.client().request("POST", "/api/generate",
                                                       body: #"{"model": "tiny", "prompt": "p\#(i)", "max_tokens": 10}"#).status) ?? -1
            statuses.append(status)
        }
        #expect(statuses.values == [200, 200, 200])
    }

    @Test("the slot is free as soon as a client has read the end of a response", arguments: [true, false])
    func slotFreeAtEnd(stream: Bool) throws {
        let server = try TestServer { $0.parallel = 1; $0.maxQueued = 0 }
        var statuses: [Int] = []
        for i in 0..<40 {
            let body = #"{"model": "tiny", "prompt": "p\#(i)", "max_tokens": 2, "stream": \#(stream)}"#
            statuses.append(try server.client().request("POST", "/api/generate", body: body).status)
        }
        #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
    }

    @Test("a client that disconnects cancels its generation", arguments: ["/api/generate", "/v1/completions"])
    func disconnectCancels(path: String) throws {
        let session = ScriptedSession(name: "tiny", tokenDelay: .milliseconds(20))
        let server = try TestServer([session]) { $0.parallel = 1; $0.maxQueued = 0 }
        let client = try server.client()
        let body = #"{"model": "tiny", "prompt": "p", "max_tokens": 10000, "stream": true}"#
        client.send("POST \(path) HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
        _ = try client.readHead()
        _ = try client.readChunk()
        client.closeNow()
        #expect(eventually { session.cancellations == 1 }, "cancellations: \(session.cancellations)")
        // the slot is free again
        #expect(eventually { server.server.connectionCount == 0 })
        let next = try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "p", "max_tokens": 1}"#)
        #expect(next.status == 200, "\(next.text)")
    }

    @Test("a non-streaming client that disconnects cancels too")
    func disconnectWhole() throws {
        let session = ScriptedSession(name: "tiny", tokenDelay: .milliseconds(20))
        let server = try TestServer([session])
        let client = try server.client()
        let body = #"{"model": "tiny", "prompt": "p", "max_tokens": 10000}"#
        client.send("POST /api/generate HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
        #expect(eventually { session.started == 1 })
        client.closeNow()
        #expect(eventually { session.cancellations == 1 }, "cancellations: \(session.cancellations)")
    }

    @Test("concurrent streams each get exactly their own tokens")
    func isolation() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", tokenDelay: .milliseconds(2))])
        let prompts = ["alpha", "beta", "gamma", "delta"]
        let results = ResultCollector<(String, String)>()
        DispatchQueue.concurrentPerform(iterations: prompts.count) { i in
            let body = #"{"model": "tiny", "prompt": "\#(prompts[i])", "max_tokens": 30, "stream": true}"#
            guard let response = try? server.client().request("POST", "/api/generate", body: body) else { return }
            let text = sseData(response.text).dropLast().compactMap {
                (try? JSONParser.parse(Array($0.utf8)))?["choices"]?[0]?["text"]?.stringValue
            }.joined()
            results.append((prompts[i], text))
        }
        #expect(results.values.count == prompts.count)
        for (prompt, text) in results.values {
            let expected = (0..<30).map { ScriptedSession.token($0, prompt: .text(prompt)) }.joined()
            #expect(text == expected, "stream for \(prompt) got \(text.prefix(80))")
        }
    }
}

/// Thread-safe collection for concurrentPerform results.
final class ResultCollector<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []
    func append(_ item: T) { lock.withLock { items.append(item) } }
    var values: [T] { lock.withLock { items } }
}
