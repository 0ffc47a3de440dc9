import Foundation
import Shimmy
import Testing
@testable import ShimmyServer

@Suite("shimmy 1.1 API", .serialized)
struct ShimmyAPITests {
    @Test("GET /health and /api/health report models_loaded and memory_usage", arguments: ["/health", "/api/health"])
    func health(path: String) throws {
        let server = try TestServer()
        let response = try server.client().request("GET", path)
        #expect(response.status == 200, "\(response.text)")
        let json = try #require(response.json)
        #expect(json["status"] == "healthy")
        #expect(json["models_loaded"] == 1)
        let memory = json["memory_usage"]?.stringValue ?? ""
        #expect(memory.hasSuffix("MB") || memory.hasSuffix("GB"), "memory_usage \(memory)")
    }

    @Test("GET /api/models lists id, name, description: the contract's `default` entry first, then each model")
    func models() throws {
        let server = try TestServer([ScriptedSession(name: "a"), ScriptedSession(name: "b")])
        let json = try #require(try server.client().request("GET", "/api/models").json)
        let ids = json["models"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
        #expect(ids == ["default", "a", "b"])
        #expect(json["models"]?[0]?["name"] == "Default Model")
        #expect(json["models"]?[0]?["description"] == "Base GGUF model (a, 105 MB)")
        #expect(json["models"]?[1]?["name"] == "a")
        // the size in the decimal units `shimmy list` and Ollama use (105,000,000 bytes)
        #expect(json["models"]?[1]?["description"] == "GGUF model, 105 MB")
        // the listed `default` is what a request for it gets
        let generated = try server.client().request("POST", "/api/generate", body: #"{"model": "default", "prompt": "x"}"#)
        #expect(generated.status == 200, "\(generated.text)")
    }

    @Test("POST /api/generate applies the documented defaults: max_tokens 100, temperature 0.7, stream false")
    func generateDefaults() throws {
        let server = try TestServer()
        let response = try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "one two three"}"#)
        #expect(response.status == 200, "\(response.text)")
        #expect(response.header("Content-Type") == "application/json")
        let request = try #require(server.session.lastRequest)
        #expect(request.maxTokens == 100)
        #expect(request.sampling.temperature == 0.7)
        #expect(request.prompt == .text("one two three"))
        let json = try #require(response.json)
        #expect(json["choices"]?[0]?["text"]?.stringValue == server.session.expectedText(request))
        #expect(json["choices"]?[0]?["index"] == 0)
        #expect(json["choices"]?[0]?["finish_reason"] == "length")
        #expect(json["usage"] == ["prompt_tokens": 3, "completion_tokens": 100, "total_tokens": 103])
    }

    @Test("model is required: an empty name is refused like a missing one (Ollama's routes too)", arguments: [
        ("/api/generate", #"{"model": "", "prompt": "hi"}"#),
        ("/api/generate", #"{"model": "", "prompt": "hi", "options": {}}"#),
        ("/api/chat", #"{"model": "", "messages": [{"role": "user", "content": "hi"}]}"#),
    ])
    func emptyModel(path: String, body: String) throws {
        let server = try TestServer()
        let response = try server.client().request("POST", path, body: body)
        #expect(response.status == 400 && response.json?["error"]?["code"] == "invalid_request", "\(response.text)")
        #expect(server.session.started == 0)
    }

    @Test("finish_reason stop when the model ends on its own, and the request's fields reach the session")
    func generateFields() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", naturalLength: 5)])
        let body = #"{"model": "default", "prompt": "x", "max_tokens": 20, "temperature": 0, "stop": ["\n"], "seed": 7}"#
        let json = try #require(try server.client().request("POST", "/api/generate", body: body).json)
        #expect(json["choices"]?[0]?["finish_reason"] == "stop")
        #expect(json["usage"]?["completion_tokens"] == 5)
        let request = try #require(server.session.lastRequest)
        #expect(request.maxTokens == 20 && request.sampling.temperature == 0 && request.stop == ["\n"])
        #expect(request.sampling.seed == 7)
    }

    @Test("streaming: one SSE event per token, then [DONE]")
    func generateStreaming() throws {
        let server = try TestServer()
        let client = try server.client()
        let response = try client.request("POST", "/api/generate",
                                          body: #"{"model": "tiny", "prompt": "hello", "max_tokens": 5, "stream": true}"#)
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/event-stream")
        let events = sseData(response.text)
        let request = try #require(server.session.lastRequest)
        let expected = (0..<5).map { JSONValue.object([("choices", [["text": .string(ScriptedSession.token($0, prompt: request.prompt)), "index": 0]])]).serialized }
        #expect(events == expected + ["[DONE]"], "events: \(events)")
        // the connection is still usable
        #expect(try client.request("GET", "/health").status == 200)
    }

    @Test("a failure after streaming began ends the stream with an error event")
    func lateFailure() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", failAfter: 2)])
        let response = try server.client().request("POST", "/api/generate",
                                                   body: #"{"model": "tiny", "prompt": "p", "stream": true}"#)
        let events = sseData(response.text)
        #expect(events.count == 3, "\(events)")
        let last = try JSONParser.parse(Array((events.last ?? "").utf8))
        #expect(last["error"]?["code"] == "generation_failed", "\(last)")
        #expect(!events.contains("[DONE]"))
    }
}
