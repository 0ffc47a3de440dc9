import Foundation
import Shimmy
import Testing
@testable import ShimmyServer

/// A catalog whose models fail to load.
final class BrokenCatalog: ModelCatalog, @unchecked Sendable {
    func availableModels() -> [ModelDescriptor] { [ModelDescriptor(name: "broken", path: "/x.gguf", sizeBytes: 1)] }
    func session(named name: String?) async throws -> any InferenceSession {
        throw ShimmyError(.serverError, "Model file cannot be loaded", details: "/x.gguf: bad magic")
    }
    func loadedModelNames() async -> [String] { [] }
}

@Suite("error responses", .serialized)
struct ErrorResponseTests {
    @Test("each error has its status and the error object", arguments: [
        ("POST", "/api/generate", #"{"model": "nope", "prompt": "x"}"#, 404, "model_not_found"),
        ("POST", "/api/generate", #"{"prompt": "x"}"#, 400, "invalid_request"),
        ("POST", "/api/generate", #"{"model": "tiny", "prompt": 5}"#, 400, "invalid_request"),
        ("POST", "/api/generate", #"{"model": "tiny", "prompt": "x", "max_tokens": 0}"#, 400, "invalid_request"),
        ("POST", "/api/generate", #"{"model": "tiny", "prompt": "x", "max_tokens": 1.5}"#, 400, "invalid_request"),
        ("POST", "/api/generate", #"{"model": "tiny", "prompt": "x", "temperature": 3}"#, 400, "invalid_request"),
        ("POST", "/api/generate", #"{"model": "tiny", "prompt": "x", "stream": "yes"}"#, 400, "invalid_request"),
        ("POST", "/api/generate", #"{"model": "tiny", "prompt": "#, 400, "invalid_request"),
        ("POST", "/api/generate", #"[1, 2]"#, 400, "invalid_request"),
        ("POST", "/v1/chat/completions", #"{"model": "tiny", "messages": []}"#, 400, "invalid_request"),
        ("POST", "/v1/chat/completions", #"{"model": "tiny", "messages": [{"role": "user", "content": "x"}], "n": 2}"#, 400, "invalid_request"),
        ("POST", "/v1/chat/completions", #"{"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]}"#, 404, "model_not_found"),
        ("POST", "/v1/completions", #"{"model": "tiny"}"#, 400, "invalid_request"),
        ("GET", "/v1/models/nope", nil, 404, "model_not_found"),
        ("POST", "/api/chat", #"{"model": "tiny", "messages": [{"role": "user", "content": "x"}], "options": {"top_p": 2}}"#, 400, "invalid_request"),
        ("POST", "/api/show", #"{"model": "nope"}"#, 404, "model_not_found"),
        ("GET", "/api/generate", nil, 405, "method_not_allowed"),
        ("GET", "/nowhere", nil, 404, "not_found"),
    ] as [(String, String, String?, Int, String)])
    func errors(method: String, path: String, body: String?, status: Int, code: String) throws {
        let server = try TestServer()
        let response = try server.client().request(method, path, body: body)
        #expect(response.status == status, "\(method) \(path): \(response.status) \(response.text)")
        let error = response.json?["error"]
        #expect(error?["code"]?.stringValue == code, "\(response.text)")
        #expect(error?["message"]?.stringValue?.isEmpty == false)
        #expect(error?["details"] != nil, "details key present")
    }

    @Test("model_not_found in the API reference's words, whatever the engine's sentence")
    func modelNotFoundWording() {
        for engine in [ShimmyError(.modelNotFound, "Model 'invalid-model' is not available", details: "served models: a, b"),
                       ShimmyError(.modelNotFound, "The specified model was not found", details: "Model 'invalid-model' is not available")] {
            #expect(APIError(engine).json == ["error": ["code": "model_not_found", "message": "The specified model was not found",
                                                        "details": "Model 'invalid-model' is not available"]])
            #expect(APIError(engine).status == 404)
        }
    }

    @Test("wrong types name the field in details")
    func fieldNamed() throws {
        let server = try TestServer()
        let response = try server.client().request("POST", "/api/chat",
                                                   body: #"{"model": "tiny", "messages": [{"role": "user", "content": 3}]}"#)
        #expect(response.json?["error"]?["details"]?.stringValue?.contains("messages[0].content") == true, "\(response.text)")
    }

    @Test("a prompt longer than the context is invalid_request with the counts")
    func promptTooLong() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", contextLength: 4)])
        let response = try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "a b c d e"}"#)
        #expect(response.status == 400)
        let details = response.json?["error"]?["details"]?.stringValue ?? ""
        #expect(details.contains("5 tokens") && details.contains("4"), "\(details)")
        // in the words clients that trim a conversation look for
        #expect(response.json?["error"]?["message"]?.stringValue?.contains("maximum context length of 4 tokens") == true)
    }

    @Test("generation_failed (500) before any output, server_error (500) when a model fails to load")
    func serverSideFailures() throws {
        let failing = try TestServer([ScriptedSession(name: "tiny", failAfter: 0)])
        let response = try failing.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "x"}"#)
        #expect(response.status == 500)
        #expect(response.json?["error"]?["code"] == "generation_failed", "\(response.text)")

        let broken = ShimmyHTTPServer(catalog: BrokenCatalog(), configuration: ServerConfiguration(port: 0),
                                      logger: ShimmyHTTPServer.silentLogger)
        try broken.start()
        defer { broken.stop() }
        let loadFailure = try TestClient(port: broken.port).request("POST", "/v1/completions", body: #"{"prompt": "x"}"#)
        #expect(loadFailure.status == 500)
        #expect(loadFailure.json?["error"]?["code"] == "server_error", "\(loadFailure.text)")
        #expect(loadFailure.json?["error"]?["details"] == "/x.gguf: bad magic")
    }
}
