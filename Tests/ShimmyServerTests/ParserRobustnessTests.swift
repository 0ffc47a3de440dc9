import Shimmy
import ShimmyTestSupport
import Testing
@testable import ShimmyServer


@Suite("parsers under mutated input")
struct ParserRobustnessTests {
    static let seeds: [String] = [
        "POST /api/generate HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\n\r\n{\"prompt\":\"x\"}",
        "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
        "GET /ws/generate HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    ]

    /// Flips, inserts and deletes bytes; every outcome must be requests or a typed error, never a crash or hang.
    @Test("HTTP parser: 3000 mutations of valid requests end in requests or a typed error", arguments: 0..<3)
    func httpMutations(seedIndex: Int) {
        var random = SplitMix64(state: UInt64(seedIndex + 1))
        let base = Array(ParserRobustnessTests.seeds[seedIndex].utf8)
        var outcomes = (requests: 0, errors: 0, incomplete: 0)
        for _ in 0..<1000 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
                default: if bytes.count > 1 { bytes.remove(at: position) }
                }
            }
            var parser = HTTPRequestParser(limits: HTTPLimits(maxHeaderBytes: 256, maxBodyBytes: 64))
            let split = Int.random(in: 0...bytes.count, using: &random)
            do {
                parser.feed(bytes[0..<split])
                var got = 0
                while try parser.next() != nil { got += 1 }
                parser.feed(bytes[split...])
                while try parser.next() != nil { got += 1 }
                if got > 0 { outcomes.requests += 1 } else { outcomes.incomplete += 1 }
            } catch {
                #expect(error.status >= 400, "\(error)")
                outcomes.errors += 1
            }
        }
        #expect(outcomes.requests + outcomes.errors + outcomes.incomplete == 1000)
        #expect(outcomes.errors > 0 && outcomes.requests > 0, "mutations should hit both outcomes: \(outcomes)")
    }

    @Test("WebSocket parser: random frames end in messages or a close code")
    func webSocketMutations() {
        var random = SplitMix64(state: 42)
        let valid = WebSocketFrame.text("{\"prompt\": \"hi\"}").encoded(maskingKey: [9, 8, 7, 6])
            + WebSocketFrame(opcode: .ping, payload: [1]).encoded(maskingKey: [1, 2, 3, 4])
        var outcomes = (messages: 0, errors: 0)
        for _ in 0..<2000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            var parser = WebSocketFrameParser(maxMessageBytes: 1024)
            parser.feed(bytes)
            do {
                while try parser.next() != nil { outcomes.messages += 1 }
            } catch {
                #expect([1002, 1007, 1009].contains(error.closeCode))
                outcomes.errors += 1
            }
        }
        #expect(outcomes.errors > 0 && outcomes.messages > 0, "\(outcomes)")
    }

    @Test("JSON parser: mutated documents parse or throw a positioned error")
    func jsonMutations() {
        var random = SplitMix64(state: 7)
        let base = Array(#"{"model": "m", "messages": [{"role": "user", "content": "h\u00e9llo"}], "n": 1.5e3, "x": [true, null]}"#.utf8)
        var parsed = 0
        for _ in 0..<3000 {
            var bytes = base
            bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            do {
                _ = try JSONParser.parse(bytes)
                parsed += 1
            } catch {
                #expect(error.offset >= 0 && error.offset <= bytes.count, "\(error)")
            }
        }
        #expect(parsed > 0 && parsed < 3000, "parsed \(parsed) of 3000")
    }
}

@Suite("PinnedCatalog")
struct PinnedCatalogTests {
    let models = [ModelDescriptor(name: "SmolLM2-135M-Instruct.Q4_1", path: "/m/a.gguf", sizeBytes: 1),
                  ModelDescriptor(name: "other", path: "/m/b.gguf", sizeBytes: 2)]

    @Test("names resolve to the pinned models; nil and default are the first", arguments: [
        (nil as String?, "SmolLM2-135M-Instruct.Q4_1"), ("default", "SmolLM2-135M-Instruct.Q4_1"),
        ("other", "other"), ("OTHER", "other"), ("other.gguf", "other"), ("other:latest", "other"),
    ])
    func resolve(name: String?, expected: String) throws {
        let catalog = PinnedCatalog(models: models, loader: { ScriptedSession(name: $0.name) }, loadedNames: { [] })
        #expect(try catalog.descriptor(named: name).name == expected)
    }

    @Test("the loaded models it reports are its own, in its order")
    func loadedNames() async {
        let catalog = PinnedCatalog(models: models, loader: { ScriptedSession(name: $0.name) },
                                    loadedNames: { ["stray", "other", "SmolLM2-135M-Instruct.Q4_1"] })
        #expect(await catalog.loadedModelNames() == ["SmolLM2-135M-Instruct.Q4_1", "other"])
        #expect(await catalog.loadedModelCount() == 2)
    }

    @Test("an unknown name is model_not_found listing what is served")
    func unknown() {
        let catalog = PinnedCatalog(models: models, loader: { ScriptedSession(name: $0.name) }, loadedNames: { [] })
        do {
            _ = try catalog.descriptor(named: "llama3")
            Issue.record("no error")
        } catch let error as ShimmyError {
            #expect(error.code == .modelNotFound)
            #expect(error.details?.contains("other") == true, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
