import Foundation
import Testing
@testable import ShimmyServer
import ShimmyTestSupport

/// The server fuzz targets' seed corpora and crash inputs (`Fuzz/corpus/<target>`, `Fuzz/regressions/<target>`),
/// run the way the harnesses in `Fuzz/` run them: byte 0 picks the limits, byte 1 the chunk size; parsing in one
/// piece and in chunks must give the same result, and nothing may trap.
@Suite("Server parsers: fuzz corpus and regressions")
struct ServerFuzzRegressionTests {
    static func inputs(_ target: String) -> [(name: String, bytes: [UInt8])] {
        ["corpus", "regressions"].flatMap { folder -> [(name: String, bytes: [UInt8])] in
            let url = TestPaths.repositoryRoot.appendingPathComponent("Fuzz/\(folder)/\(target)")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().compactMap { name in
                guard let data = try? Data(contentsOf: url.appendingPathComponent(name)) else { return nil }
                return ("\(folder)/\(name)", Array(data))
            }
        }
    }

    struct HTTPOutcome: Equatable {
        var requests: [HTTPRequest] = []
        var error: HTTPParseError?
    }

    static func parseHTTP(_ bytes: ArraySlice<UInt8>, limits: HTTPLimits, chunk: Int) -> HTTPOutcome {
        var parser = HTTPRequestParser(limits: limits)
        var outcome = HTTPOutcome()
        var start = bytes.startIndex
        repeat {
            let end = min(bytes.endIndex, start + chunk)
            parser.feed(bytes[start..<end])
            start = end
            do {
                while let request = try parser.next() { outcome.requests.append(request) }
            } catch {
                outcome.error = error
                return outcome
            }
        } while start < bytes.endIndex
        return outcome
    }

    @Test("HTTP: same requests and error whole and in chunks")
    func http() {
        let inputs = Self.inputs("http")
        #expect(inputs.count >= 8, "expected the committed seeds in Fuzz/corpus/http, found \(inputs.count)")
        for (name, bytes) in inputs where bytes.count >= 2 {
            let limits = bytes[0] & 1 == 0
                ? HTTPLimits()
                : HTTPLimits(maxHeaderBytes: 64 + Int(bytes[0] >> 1), maxHeaderCount: 4, maxBodyBytes: 32 + Int(bytes[0]))
            let chunk = Int(bytes[1] % 16) + 1
            let input = bytes[2...]
            let whole = Self.parseHTTP(input, limits: limits, chunk: max(1, input.count))
            let pieces = Self.parseHTTP(input, limits: limits, chunk: chunk)
            #expect(whole == pieces, "\(name): whole \(whole) vs pieces of \(chunk) \(pieces)")
            if name.hasPrefix("corpus/get") { #expect(whole.requests.count == 1 && whole.error == nil, "\(name): \(whole)") }
        }
    }

    struct WebSocketOutcome: Equatable {
        var messages: [WebSocketMessage] = []
        var error: WebSocketParseError?
    }

    static func parseWebSocket(_ bytes: ArraySlice<UInt8>, limit: Int, chunk: Int) -> WebSocketOutcome {
        var parser = WebSocketFrameParser(maxMessageBytes: limit)
        var outcome = WebSocketOutcome()
        var start = bytes.startIndex
        repeat {
            let end = min(bytes.endIndex, start + chunk)
            parser.feed(bytes[start..<end])
            start = end
            do {
                while let message = try parser.next() { outcome.messages.append(message) }
            } catch {
                outcome.error = error
                return outcome
            }
        } while start < bytes.endIndex
        return outcome
    }

    @Test("WebSocket: same messages and error whole and in chunks")
    func webSocket() {
        let inputs = Self.inputs("websocket")
        #expect(inputs.count >= 6, "expected the committed seeds in Fuzz/corpus/websocket, found \(inputs.count)")
        for (name, bytes) in inputs where bytes.count >= 2 {
            let limit = bytes[0] & 1 == 0 ? 1024 * 1024 : Int(bytes[0]) * 2
            let chunk = Int(bytes[1] % 16) + 1
            let input = bytes[2...]
            let whole = Self.parseWebSocket(input, limit: limit, chunk: max(1, input.count))
            let pieces = Self.parseWebSocket(input, limit: limit, chunk: chunk)
            #expect(whole == pieces, "\(name): whole \(whole) vs pieces of \(chunk) \(pieces)")
            if name.hasPrefix("corpus/text-0000") {
                #expect(whole.messages.count == 1 && whole.error == nil, "\(name): \(whole)")
            }
        }
    }

    @Test("JSON: every body parses or is rejected, serializing round-trips, decoders never trap")
    func json() {
        let inputs = Self.inputs("json")
        #expect(inputs.count >= 5, "expected the committed seeds in Fuzz/corpus/json, found \(inputs.count)")
        for (name, body) in inputs {
            let parsed = try? JSONParser.parse(body)
            if name.hasPrefix("corpus/") { #expect(parsed != nil, "\(name): a seed did not parse") }
            if let value = parsed {
                let again = try? JSONParser.parse(value.serializedBytes)
                #expect(again?.serialized == value.serialized, "\(name): \(value.serialized) did not round-trip")
            }
            let ollamaGenerate = { (body: [UInt8]) throws in _ = try OllamaRequestDecoder.generate(FieldReader.parse(body)) }
            for decode in [{ _ = try OpenAIRequestDecoder.chat($0) }, { _ = try OpenAIRequestDecoder.completion($0) },
                           { _ = try OllamaRequestDecoder.chat($0) }, { _ = try ShimmyRequestDecoder.generate($0) },
                           ollamaGenerate] as [([UInt8]) throws -> Void] {
                do {
                    _ = try decode(body)
                } catch {
                    #expect(APIError(error).status == 400, "\(name): \(error)")
                }
            }
        }
    }
}
