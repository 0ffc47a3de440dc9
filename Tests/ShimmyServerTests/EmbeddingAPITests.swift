import Foundation
import Shimmy
import Testing
@testable import ShimmyServer

/// `/v1/embeddings`, `/api/embed` and `/api/embeddings` over a scripted session: shapes, encodings, the requests
/// the session gets, errors naming the field.
@Suite("Embedding API", .serialized)
struct EmbeddingAPITests {
    static func floats(_ value: JSONValue?) -> [Float]? {
        value?.arrayValue?.compactMap { $0.doubleValue.map(Float.init) }
    }

    @Test("/v1/embeddings: a list of embedding objects in order, usage, the served model's name")
    func openAI() throws {
        let server = try TestServer()
        let response = try server.client().request("POST", "/v1/embeddings",
                                                   body: #"{"model": "default", "input": ["one two", "three"], "user": "u"}"#)
        #expect(response.status == 200, "\(response.text)")
        let json = try #require(response.json)
        #expect(json["object"] == "list" && json["model"] == "tiny")
        #expect(json["usage"] == ["prompt_tokens": 3, "total_tokens": 3])
        for (index, tokens) in [2, 1].enumerated() {
            let item = try #require(json["data"]?[index])
            #expect(item["object"] == "embedding" && item["index"] == .int(index))
            #expect(Self.floats(item["embedding"]) == ScriptedSession.scriptedVector(tokens: tokens, length: 8))
        }
        #expect(server.session.embeddingRequests == [EmbeddingRequest(input: .text("one two")),
                                                     EmbeddingRequest(input: .text("three"))])
        // model is optional, as on the other /v1 routes
        let unnamed = try server.client().request("POST", "/v1/embeddings", body: #"{"input": "x"}"#)
        #expect(unnamed.status == 200 && unnamed.json?["model"] == "tiny", "\(unnamed.text)")
    }

    @Test("/v1/embeddings with encoding_format base64 (the openai client's default): little-endian f32 values")
    func openAIBase64() throws {
        let server = try TestServer()
        let response = try server.client().request("POST", "/v1/embeddings",
                                                   body: #"{"model": "tiny", "input": "a b c", "encoding_format": "base64"}"#)
        #expect(response.status == 200, "\(response.text)")
        let encoded = try #require(response.json?["data"]?[0]?["embedding"]?.stringValue)
        let bytes = try #require(Data(base64Encoded: encoded))
        let values = stride(from: 0, to: bytes.count, by: 4).map { offset in
            Float(bitPattern: bytes[offset..<offset + 4].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) })
        }
        #expect(values == ScriptedSession.scriptedVector(tokens: 3, length: 8))
    }

    @Test("/v1/embeddings takes token ids, one array or several, and dimensions")
    func openAITokens() throws {
        let server = try TestServer()
        // one array of ids is one input, however long (the 2048 limit counts inputs)
        let ids = (0..<3000).map(String.init).joined(separator: ",")
        let long = try server.client().request("POST", "/v1/embeddings", body: #"{"input": ["# + ids + "]}")
        #expect(long.status == 400 && long.json?["error"]?["message"]?.stringValue?.contains("maximum context length") == true,
                "\(long.text)")
        let server2 = try TestServer([ScriptedSession(name: "tiny", contextLength: 4096)])
        let fits = try server2.client().request("POST", "/v1/embeddings", body: #"{"input": ["# + ids + "]}")
        #expect(fits.status == 200 && fits.json?["usage"]?["prompt_tokens"] == 3000, "\(fits.text.prefix(300))")
        let one = try server.client().request("POST", "/v1/embeddings", body: #"{"model": "tiny", "input": [5, 6, 7], "dimensions": 3}"#)
        #expect(one.status == 200 && Self.floats(one.json?["data"]?[0]?["embedding"])?.count == 3, "\(one.text)")
        let two = try server.client().request("POST", "/v1/embeddings", body: #"{"model": "tiny", "input": [[1], [2, 3]]}"#)
        #expect(two.status == 200 && two.json?["usage"]?["prompt_tokens"] == 3, "\(two.text)")
        #expect(server.session.embeddingRequests == [EmbeddingRequest(input: .tokens([5, 6, 7]), dimensions: 3),
                                                     EmbeddingRequest(input: .tokens([1])), EmbeddingRequest(input: .tokens([2, 3]))])
    }

    @Test("/v1/embeddings refuses bad input naming the field, before the model runs",
          arguments: [(#""input": """#, "input"), (#""input": []"#, "input"), (#""input": ["a", ""]"#, "input[1]"),
                      (#""input": [[1], []]"#, "input[1]"), (#""input": [1, -2]"#, "input[1]"), (#""input": [1.5]"#, "input[0]"),
                      (#""input": ["a", 1]"#, "input"), (#""input": {"a": 1}"#, "input"), (#""input": 3"#, "input"),
                      (#""input": "a", "encoding_format": "int8""#, "encoding_format"), (#""input": "a", "dimensions": 0"#, "dimensions"),
                      (#""input": "a", "dimensions": 9"#, "dimensions"), (#""prompt": "a""#, "input")])
    func openAIRefuses(fields: String, param: String) throws {
        let server = try TestServer()
        let response = try server.client().request("POST", "/v1/embeddings", body: #"{"model": "tiny", "# + fields + "}")
        #expect(response.status == 400, "\(fields): \(response.text)")
        #expect(response.json?["error"]?["param"] == .string(param) && response.json?["error"]?["type"] == "invalid_request_error",
                "\(fields): \(response.text)")
        #expect(server.session.embeddingRequests.isEmpty)
    }

    @Test("/v1/embeddings: an input longer than the context is refused as OpenAI does, naming it; model_not_found is 404")
    func openAITooLong() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", contextLength: 4)])
        let response = try server.client().request("POST", "/v1/embeddings", body: #"{"model": "tiny", "input": ["a", "a b c d e"]}"#)
        #expect(response.status == 400 && response.json?["error"]?["param"] == "input[1]", "\(response.text)")
        #expect(response.json?["error"]?["message"]?.stringValue?.contains("maximum context length of 4 tokens") == true)
        // every input is checked before any runs: the first was not embedded
        #expect(server.session.embeddingRequests.isEmpty)
        // errors name the input as the request has it
        for (input, param) in [("[[1], [2, 50000]]", "input[1][1]"), ("[[1, 50000]]", "input[0][1]"), ("[1, 50000]", "input[1]"),
                               (#"["a b c d e"]"#, "input[0]"), (#""a b c d e""#, "input")] {
            let response = try server.client().request("POST", "/v1/embeddings", body: #"{"input": "# + input + "}")
            #expect(response.status == 400 && response.json?["error"]?["param"] == .string(param), "\(input): \(response.text)")
        }
        #expect(server.session.embeddingRequests.isEmpty)
        // at most 2048 inputs
        let many = "[" + Array(repeating: #""a""#, count: 2049).joined(separator: ",") + "]"
        for path in ["/v1/embeddings", "/api/embed"] {
            let response = try server.client().request("POST", path, body: #"{"model": "tiny", "input": "# + many + "}")
            #expect(response.status == 400 && response.text.contains("at most 2048 inputs"), "\(path): \(response.text.prefix(300))")
        }
        let most = "[" + Array(repeating: #""a""#, count: 2048).joined(separator: ",") + "]"
        let fits = try server.client().request("POST", "/v1/embeddings", body: #"{"input": "# + most + "}")
        #expect(fits.status == 200 && fits.json?["data"]?[2047]?["index"] == 2047)
        let missing = try server.client().request("POST", "/v1/embeddings", body: #"{"model": "nope", "input": "a"}"#)
        #expect(missing.status == 404 && missing.json?["error"]?["code"] == "model_not_found", "\(missing.text)")
    }

    @Test("/api/embed: asks for normalized embeddings; counts and durations; truncate defaults to true; no input loads the model")
    func ollamaEmbed() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", contextLength: 4)])
        let response = try server.client().request("POST", "/api/embed",
                                                   body: #"{"model": "tiny", "input": ["a b", "a b c d e f"], "options": {"num_ctx": 8}, "keep_alive": "5m"}"#)
        #expect(response.status == 200, "\(response.text)")
        let json = try #require(response.json)
        #expect(json["model"] == "tiny" && json["prompt_eval_count"] == 6)
        #expect(Self.floats(json["embeddings"]?[1]) == ScriptedSession.scriptedVector(tokens: 4, length: 8))
        #expect((json["total_duration"]?.integerValue ?? -1) >= (json["load_duration"]?.integerValue ?? 0))
        #expect(server.session.embeddingRequests == [EmbeddingRequest(input: .text("a b"), truncate: true),
                                                     EmbeddingRequest(input: .text("a b c d e f"), truncate: true)])
        let refused = try server.client().request("POST", "/api/embed", body: #"{"model": "tiny", "input": "a b c d e", "truncate": false}"#)
        #expect(refused.status == 400 && refused.json?["error"]?["code"] == "invalid_request", "\(refused.text)")
        for body in [#"{"model": "tiny"}"#, #"{"model": "tiny", "input": ""}"#, #"{"model": "tiny", "input": []}"#] {
            let load = try server.client().request("POST", "/api/embed", body: body)
            #expect(load.status == 200 && load.json == ["model": "tiny", "embeddings": []], "\(body): \(load.text)")
        }
        // dimensions: fewer shorten; 0 (Ollama's "not set") and more than the model has give the whole vector
        for (dimensions, count) in [(2, 2), (0, 8), (9, 8), (5000, 8)] {
            let response = try server.client().request("POST", "/api/embed", body: #"{"model": "tiny", "input": "a", "dimensions": \#(dimensions)}"#)
            #expect(Self.floats(response.json?["embeddings"]?[0])?.count == count, "\(dimensions): \(response.text)")
        }
        for bad in [#""input": [1]"#, #""input": ["a", ""]"#, #""input": 5"#, #""truncate": "yes", "input": "a""#,
                    #""input": "a", "dimensions": -1"#] {
            let response = try server.client().request("POST", "/api/embed", body: #"{"model": "tiny", "# + bad + "}")
            #expect(response.status == 400, "\(bad): \(response.text)")
        }
    }

    @Test("/api/embeddings: the raw vector of prompt, cut to the context; no prompt loads the model")
    func ollamaEmbeddings() throws {
        let server = try TestServer()
        let response = try server.client().request("POST", "/api/embeddings", body: #"{"model": "tiny", "prompt": "x y"}"#)
        #expect(response.status == 200, "\(response.text)")
        #expect(Self.floats(response.json?["embedding"]) == ScriptedSession.scriptedVector(tokens: 2, length: 8))
        #expect(server.session.embeddingRequests == [EmbeddingRequest(input: .text("x y"), normalize: false, truncate: true)])
        let load = try server.client().request("POST", "/api/embeddings", body: #"{"model": "tiny"}"#)
        #expect(load.status == 200 && load.json == ["embedding": []], "\(load.text)")
        let wrong = try server.client().request("GET", "/api/embeddings")
        #expect(wrong.status == 405, "\(wrong.text)")
    }

    @Test("a client that leaves during an embedding stops it and frees its slot", arguments: ["/v1/embeddings", "/api/embed"])
    func clientLeaves(path: String) throws {
        let server = try TestServer { $0.parallel = 1; $0.maxQueued = 0 }
        let leaving = try server.client()
        let body = #"{"model": "tiny", "input": "slow"}"#
        leaving.send("POST \(path) HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
        #expect(eventually { server.session.embeddingRequests.count == 1 })
        // it holds the one slot: another request is turned away
        let busy = try server.client().request("POST", path, body: #"{"model": "tiny", "input": "fast"}"#)
        #expect(busy.status == 503 && busy.json?["error"]?["code"] == "server_busy", "\(busy.text)")
        leaving.closeNow()
        #expect(eventually { server.session.cancellations == 1 })
        // the one slot is free again
        let next = try server.client().request("POST", path, body: #"{"model": "tiny", "input": "fast"}"#)
        #expect(next.status == 200, "\(next.text)")
    }

    @Test("numbers are written as the shortest decimal of each f32")
    func shortestDecimal() {
        let values: [Float] = [0.1, -1e-7, 1 / 3, 12345.678, 0, 3]
        #expect(JSONValue.numbers(values).serialized == "[0.1,-1e-07,0.33333334,12345.678,0,3]")
        #expect(JSONValue.numbers([.nan, .infinity]).serialized == "[null,null]")
    }
}
