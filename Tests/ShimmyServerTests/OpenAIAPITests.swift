import Foundation
import Shimmy
import Testing
@testable import ShimmyServer

@Suite("OpenAI-compatible API", .serialized)
struct OpenAIAPITests {
    let chatBody = #"{"model": "tiny", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": [{"type": "text", "text": "hi there"}]}], "max_tokens": 4"#

    @Test("chat completion: message, finish_reason, real usage; messages reach the session")
    func chat() throws {
        let server = try TestServer()
        let response = try server.client().request("POST", "/v1/chat/completions", body: chatBody + "}")
        #expect(response.status == 200, "\(response.text)")
        let json = try #require(response.json)
        let request = try #require(server.session.lastRequest)
        #expect(request.prompt == .messages([.system("be brief"), .user("hi there")]))
        #expect(json["object"] == "chat.completion")
        #expect(json["id"]?.stringValue?.hasPrefix("chatcmpl-") == true)
        #expect(json["choices"]?[0]?["message"] == ["role": "assistant", "content": .string(server.session.expectedText(request))])
        #expect(json["choices"]?[0]?["finish_reason"] == "length")
        #expect(json["usage"] == ["prompt_tokens": 6, "completion_tokens": 4, "total_tokens": 10], "\(json["usage"]?.serialized ?? "")")
    }

    @Test("sampling fields: max_completion_tokens, stop string, seed, top_p, penalties")
    func samplingFields() throws {
        let server = try TestServer()
        let body = #"{"model": "tiny", "messages": [{"role": "user", "content": "x"}], "max_completion_tokens": 3, "stop": "END", "seed": -1, "temperature": 0.2, "top_p": 0.5, "presence_penalty": 0.5, "frequency_penalty": -0.5, "unknown_field": {"a": 1}}"#
        let response = try server.client().request("POST", "/v1/chat/completions", body: body)
        #expect(response.status == 200, "\(response.text)")
        let request = try #require(server.session.lastRequest)
        #expect(request.maxTokens == 3 && request.stop == ["END"])
        #expect(request.sampling.seed == nil)  // -1: a random seed, as llama.cpp and Ollama read it
        #expect(request.sampling.temperature == 0.2 && request.sampling.topP == 0.5)
        #expect(request.sampling.presencePenalty == 0.5 && request.sampling.frequencyPenalty == -0.5)
        // the defaults of llama.cpp's extensions
        #expect(request.sampling.topK == 40 && request.sampling.minP == 0.05 && request.sampling.repeatPenalty == 1)
    }

    @Test("llama.cpp's sampling extensions on /v1; other negative seeds are fixed ones")
    func llamaCppExtensions() throws {
        let server = try TestServer()
        let body = #"{"model": "tiny", "prompt": "x", "max_tokens": 2, "seed": -2, "top_k": 1, "min_p": 0.2, "repeat_penalty": 1.3, "repeat_last_n": -1}"#
        let response = try server.client().request("POST", "/v1/completions", body: body)
        #expect(response.status == 200, "\(response.text)")
        let sampling = try #require(server.session.lastRequest).sampling
        #expect(sampling.seed == UInt64.max - 1)
        #expect(sampling.topK == 1 && sampling.minP == 0.2 && sampling.repeatPenalty == 1.3 && sampling.repeatLastN == -1)
        let bad = try server.client().request("POST", "/v1/completions", body: #"{"prompt": "x", "min_p": 2}"#)
        #expect(bad.status == 400 && bad.json?["error"]?["param"] == "min_p", "\(bad.text)")
        let missing = try server.client().request("POST", "/v1/completions", body: #"{"max_tokens": 2}"#)
        #expect(missing.status == 400 && missing.json?["error"]?["param"] == "prompt", "\(missing.text)")
        let image = try server.client().request("POST", "/v1/chat/completions",
                                                body: #"{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}"#)
        #expect(image.status == 400 && image.json?["error"]?["param"] == "messages[0].content", "\(image.text)")
    }

    @Test("fields that would change the answer in a way shimmy cannot follow are refused, naming the field",
          arguments: [("/v1/chat/completions", #""functions": [{"name": "f"}]"#, "functions"),
                      ("/v1/chat/completions", #""response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "string"}}}"#, "response_format.json_schema.schema"),
                      ("/v1/completions", #""response_format": {"type": "xml"}"#, "response_format"),
                      ("/v1/completions", #""echo": true"#, "echo"),
                      ("/v1/completions", #""suffix": "}""#, "suffix"),
                      ("/v1/completions", #""best_of": 3"#, "best_of"),
                      ("/v1/chat/completions", #""n": 2"#, "n")])
    func refusedFields(path: String, field: String, name: String) throws {
        let server = try TestServer()
        let input = path == "/v1/completions" ? #""prompt": "x""# : #""messages": [{"role": "user", "content": "x"}]"#
        let response = try server.client().request("POST", path, body: #"{"model": "tiny", "#  + input + ", " + field + "}")
        #expect(response.status == 400, "\(field): \(response.text)")
        let error = response.json?["error"]
        #expect(error?["code"] == "invalid_request" && error?["type"] == "invalid_request_error", "\(response.text)")
        #expect(error?["param"] == .string(name), "\(response.text)")
        #expect(server.session.lastRequest == nil)
    }

    @Test("logit_bias reaches the sampler on both routes; what it cannot be is a 400 naming the field",
          arguments: [(#"{"12": -100, "7": 2.5}"#, nil), (#"{"x": 1}"#, "logit_bias"), (#"{"-1": 1}"#, "logit_bias"),
                      (#"{"3": 101}"#, "logit_bias.3"), (#"{"3": "ban"}"#, "logit_bias.3"), (#"[1]"#, "logit_bias"),
                      (#"{"50000": 1}"#, "logit_bias"),
                      (#"{"007": 1}"#, "logit_bias"), (#"{"+5": 1}"#, "logit_bias"), (#"{"5": null}"#, "logit_bias.5"), ("{" + (0..<1025).map { "\"\($0)\": 1" }.joined(separator: ",") + "}", "logit_bias")])
    func logitBias(bias: String, param: String?) throws {
        let server = try TestServer()
        for (path, input) in [("/v1/chat/completions", #""messages": [{"role": "user", "content": "x"}]"#), ("/v1/completions", #""prompt": "x""#)] {
            let response = try server.client().request("POST", path, body: #"{"#  + input + #", "logit_bias": "# + bias + "}")
            if let param {
                #expect(response.status == 400 && response.json?["error"]?["param"] == .string(param), "\(response.text)")
            } else {
                #expect(response.status == 200, "\(response.text)")
                #expect(server.session.lastRequest?.sampling.logitBias == [12: -100, 7: 2.5])
            }
        }
        if param != nil { #expect(server.session.lastRequest == nil) }
    }

    @Test("the same fields asking for nothing are accepted; developer is the system role; model names the model that ran")
    func acceptedDefaults() throws {
        let server = try TestServer()
        let chat = try server.client().request("POST", "/v1/chat/completions", body: #"{"model": "default", "messages": [{"role": "developer", "content": "be brief"}, {"role": "user", "content": "x"}], "tools": [], "logprobs": false, "top_logprobs": 0, "response_format": {"type": "text"}, "logit_bias": {}, "max_tokens": 2}"#)
        #expect(chat.status == 200, "\(chat.text)")
        #expect(chat.json?["model"] == "tiny", "\(chat.text)")
        #expect(server.session.lastRequest?.prompt == .messages([.system("be brief"), .user("x")]))
        let completion = try server.client().request("POST", "/v1/completions", body: #"{"prompt": "x", "echo": false, "best_of": 1, "suffix": "", "max_tokens": 2}"#)
        #expect(completion.status == 200 && completion.json?["model"] == "tiny", "\(completion.text)")
    }

    @Test("JSON mode: response_format json_object on /v1, format json on Ollama's routes; text and \"\" are free text",
          arguments: [("/v1/chat/completions", #""response_format": {"type": "json_object"}"#, true),
                      ("/v1/completions", #""response_format": {"type": "json_object"}"#, true),
                      ("/v1/chat/completions", #""response_format": {"type": "text"}"#, false),
                      ("/api/chat", #""format": "json""#, true), ("/api/chat", #""format": """#, false),
                      ("/api/generate", #""format": "json""#, true), ("/api/generate", #""format": "", "raw": true"#, false)])
    func jsonMode(path: String, field: String, json: Bool) throws {
        let server = try TestServer()
        let input = path.hasSuffix("chat/completions") || path == "/api/chat"
            ? #""messages": [{"role": "user", "content": "x"}]"# : #""prompt": "x""#
        let response = try server.client().request("POST", path, body: #"{"model": "tiny", "stream": false, "#  + input + ", " + field + "}")
        #expect(response.status == 200, "\(response.text)")
        #expect(server.session.lastRequest?.format == (json ? .json : nil), "\(field)")
    }

    @Test("without max_tokens the generation may fill the context")
    func defaultMaxTokens() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", contextLength: 10)])
        _ = try server.client().request("POST", "/v1/completions", body: #"{"prompt": "a b c"}"#)
        #expect(server.session.lastRequest?.maxTokens == 7)
    }

    @Test("streaming chat: role chunk, content chunks, finish chunk, usage chunk, [DONE]", arguments: [false, true])
    func chatStream(includeUsage: Bool) throws {
        let server = try TestServer()
        let options = includeUsage ? #", "stream_options": {"include_usage": true}"# : ""
        let response = try server.client().request("POST", "/v1/chat/completions", body: chatBody + #", "stream": true"# + options + "}")
        let events = sseData(response.text)
        #expect(events.last == "[DONE]")
        let chunks = try events.dropLast().map { try JSONParser.parse(Array($0.utf8)) }
        #expect(chunks.count == (includeUsage ? 7 : 6), "\(events)")
        #expect(chunks.allSatisfy { $0["object"] == "chat.completion.chunk" })
        #expect(chunks.first?["choices"]?[0]?["delta"]?["role"] == "assistant")
        let request = try #require(server.session.lastRequest)
        let content = chunks.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.stringValue }.joined()
        #expect(content == server.session.expectedText(request))
        #expect(chunks[5]["choices"]?[0]?["finish_reason"] == "length")
        if includeUsage {
            #expect(chunks[6]["choices"] == [])
            #expect(chunks[6]["usage"]?["total_tokens"] == 10)
            #expect(chunks[0]["usage"] == JSONValue.null)
        } else {
            #expect(chunks[0]["usage"] == nil)
        }
    }

    @Test("text completion, streaming and not")
    func completions() throws {
        let server = try TestServer()
        let plain = try #require(try server.client().request("POST", "/v1/completions",
                                                             body: #"{"model": "tiny", "prompt": ["a b"], "max_tokens": 3}"#).json)
        #expect(plain["object"] == "text_completion")
        let request = try #require(server.session.lastRequest)
        #expect(plain["choices"]?[0]?["text"]?.stringValue == server.session.expectedText(request))
        #expect(plain["usage"] == ["prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5])

        let stream = try server.client().request("POST", "/v1/completions",
                                                 body: #"{"model": "tiny", "prompt": "a b", "max_tokens": 3, "stream": true, "stream_options": {"include_usage": true}}"#)
        let events = sseData(stream.text)
        let chunks = try events.dropLast().map { try JSONParser.parse(Array($0.utf8)) }
        #expect(chunks.compactMap { $0["choices"]?[0]?["text"]?.stringValue }.joined() == server.session.expectedText(request))
        #expect(chunks.last?["usage"]?["completion_tokens"] == 3)
        #expect(events.last == "[DONE]")
    }

    @Test("GET /v1/models and /v1/models/{id}")
    func models() throws {
        let server = try TestServer([ScriptedSession(name: "a"), ScriptedSession(name: "b:latest")])
        let list = try #require(try server.client().request("GET", "/v1/models").json)
        #expect(list["object"] == "list")
        #expect(list["data"]?[1] == ["id": "b:latest", "object": "model", "created": 1_700_000_000, "owned_by": "shimmy"])
        let one = try server.client().request("GET", "/v1/models/b%3Alatest")
        #expect(one.json?["id"] == "b:latest", "\(one.text)")
        // the names the generation endpoints take
        #expect(try server.client().request("GET", "/v1/models/default").json?["id"] == "a")
        #expect(try server.client().request("GET", "/v1/models/DEFAULT").json?["id"] == "a")
        #expect(try server.client().request("GET", "/v1/models/A.gguf").json?["id"] == "a")
        let missing = try server.client().request("GET", "/v1/models/nope").json?["error"]
        #expect(missing == ["code": "model_not_found", "message": "The specified model was not found",
                            "details": "Model 'nope' is not available", "type": "invalid_request_error", "param": nil])
    }

    @Test("a model dated beyond Int's range of seconds is listed with the last second of year 9999")
    func farFutureDate() throws {
        let server = try TestServer([ScriptedSession(name: "a")])
        server.catalog.modified = Date(timeIntervalSince1970: 9.3e18)
        let list = try server.client().request("GET", "/v1/models")
        #expect(list.status == 200 && list.json?["data"]?[0]?["created"] == 253_402_300_799, "\(list.text)")
    }
}

@Suite("Ollama-compatible API", .serialized)
struct OllamaAPITests {
    let messages = #""messages": [{"role": "user", "content": "why is the sky blue"}]"#

    @Test("/api/chat streams NDJSON by default, with counts on the last line")
    func chatStream() throws {
        let server = try TestServer()
        let response = try server.client().request("POST", "/api/chat",
                                                   body: #"{"model": "tiny", "#  + messages + #", "options": {"num_predict": 3, "temperature": 0, "top_k": 5, "repeat_penalty": 1.2, "num_ctx": 9999, "stop": ["x"]}, "keep_alive": "5m"}"#)
        #expect(response.header("Content-Type") == "application/x-ndjson")
        let lines = try response.text.split(separator: "\n").map { try JSONParser.parse(Array($0.utf8)) }
        #expect(lines.count == 4, "\(response.text)")
        let request = try #require(server.session.lastRequest)
        #expect(request.maxTokens == 3 && request.sampling.temperature == 0 && request.sampling.topK == 5)
        #expect(request.sampling.repeatPenalty == 1.2 && request.stop == ["x"])
        #expect(lines.dropLast().allSatisfy { $0["done"] == false && $0["message"]?["role"] == "assistant" })
        #expect(lines.compactMap { $0["message"]?["content"]?.stringValue }.joined() == server.session.expectedText(request))
        let last = try #require(lines.last)
        #expect(last["done"] == true && last["done_reason"] == "length")
        #expect(last["prompt_eval_count"] == 6 && last["eval_count"] == 3)
    }

    @Test("/api/chat drops the oldest messages of a conversation longer than the context, as Ollama; /v1 refuses it")
    func chatLongerThanContext() throws {
        // the scripted session counts a word per token, "role:" included: 3 + 5 + 3 + 3 = 14 tokens, context 10
        let server = try TestServer([ScriptedSession(name: "tiny", contextLength: 10)])
        let conversation = #""messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "one two three four"}, {"role": "assistant", "content": "five six"}, {"role": "user", "content": "seven eight"}]"#
        // no num_predict: a quarter of the context (2 tokens) stays for the answer, so 6 of the 9 that would fit
        let json = try #require(try server.client().request("POST", "/api/chat", body: #"{"model": "tiny", "stream": false, "#
                                                                + conversation + "}").json)
        #expect(json["done"] == true && json["prompt_eval_count"] == 6 && json["eval_count"] == 4, "\(json)")
        let request = try #require(server.session.lastRequest)
        #expect(request.prompt == .messages([.system("be brief"), .user("seven eight")]))
        // num_predict 1 needs a token of room: the assistant message fits too
        let short = try #require(try server.client().request("POST", "/api/chat", body: #"{"model": "tiny", "stream": false, "options": {"num_predict": 1}, "#
                                                                 + conversation + "}").json)
        #expect(short["prompt_eval_count"] == 9 && short["eval_count"] == 1, "\(short)")
        #expect(server.session.lastRequest?.prompt == .messages([.system("be brief"), .assistant("five six"), .user("seven eight")]))
        let openAI = try server.client().request("POST", "/v1/chat/completions", body: "{" + conversation + "}")
        #expect(openAI.status == 400 && openAI.text.contains("maximum context length"), "\(openAI.text)")
        // a last message too long by itself is still refused
        let alone = #""messages": [{"role": "user", "content": "a b c d e f g h i j k"}]"#
        let refused = try server.client().request("POST", "/api/chat", body: #"{"model": "tiny", "stream": false, "# + alone + "}")
        #expect(refused.status == 400, "\(refused.text)")
    }

    @Test("/api/chat with stream false is one object")
    func chatWhole() throws {
        let server = try TestServer()
        let json = try #require(try server.client().request("POST", "/api/chat",
                                                            body: #"{"model": "tiny", "stream": false, "#  + messages + "}").json)
        #expect(json["done"] == true)
        let request = try #require(server.session.lastRequest)
        #expect(json["message"]?["content"]?.stringValue == server.session.expectedText(request))
        #expect(request.sampling.temperature == 0.8, "Ollama's default temperature")
    }

    @Test("Ollama's seed -1 (its default) is a random seed on both routes")
    func ollamaRandomSeed() throws {
        let server = try TestServer()
        for (path, body) in [("/api/generate", #"{"model": "tiny", "prompt": "x", "stream": false, "options": {"seed": -1, "num_predict": 1}}"#),
                             ("/api/chat", #"{"model": "tiny", "stream": false, "messages": [{"role": "user", "content": "x"}], "options": {"seed": -1, "num_predict": 1}}"#)] {
            let response = try server.client().request("POST", path, body: body)
            #expect(response.status == 200, "\(path): \(response.text)")
            #expect(server.session.lastRequest?.sampling.seed == nil, "\(path)")
        }
    }

    @Test("/api/generate with an Ollama-only field: NDJSON `response` lines, the chat template, counts last")
    func ollamaGenerateStream() throws {
        let server = try TestServer()
        let response = try server.client().request("POST", "/api/generate",
                                                   body: #"{"model": "tiny", "prompt": "why is the sky blue", "system": "be brief", "options": {"num_predict": 3, "temperature": 0, "seed": 7}}"#)
        #expect(response.status == 200 && response.header("Content-Type") == "application/x-ndjson", "\(response.text)")
        let lines = try response.text.split(separator: "\n").map { try JSONParser.parse(Array($0.utf8)) }
        #expect(lines.count == 4, "\(response.text)")
        let request = try #require(server.session.lastRequest)
        #expect(request.prompt == .messages([.system("be brief"), .user("why is the sky blue")]))
        #expect(request.maxTokens == 3 && request.sampling.temperature == 0 && request.sampling.seed == 7)
        #expect(lines.dropLast().allSatisfy { $0["done"] == false && $0["model"] == "tiny" && $0["created_at"] != nil })
        #expect(lines.compactMap { $0["response"]?.stringValue }.joined() == server.session.expectedText(request))
        let last = try #require(lines.last)
        #expect(last["done"] == true && last["done_reason"] == "length" && last["response"] == "")
        #expect(last["prompt_eval_count"] == .int(try server.session.countTokens(request.prompt)) && last["eval_count"] == 3)
        #expect(last["choices"] == nil)
    }

    @Test("Ollama's /api/generate cuts a prompt that does not fit (num_keep, room for the answer); shimmy 1.1's refuses it")
    func ollamaGenerateTooLong() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", contextLength: 16)])
        let words = (0..<40).map { "w\($0)" }.joined(separator: " ")
        let response = try server.client().request("POST", "/api/generate",
                                                   body: #"{"model": "tiny", "prompt": "\#(words)", "raw": true, "stream": false, "options": {"num_predict": 3}}"#)
        #expect(response.status == 200, "\(response.text)")
        // 16 - 3 tokens of room = 13 prompt tokens, the first 4 among them
        #expect(response.json?["prompt_eval_count"] == 13 && response.json?["eval_count"] == 3, "\(response.text)")
        #expect(server.session.lastRequest?.truncation == PromptTruncation(keep: 4, room: 3))
        let keep = try server.client().request("POST", "/api/generate",
                                               body: #"{"model": "tiny", "prompt": "\#(words)", "raw": true, "stream": false, "options": {"num_keep": 0}}"#)
        // without num_predict the answer gets a quarter of the context
        #expect(keep.status == 200 && keep.json?["prompt_eval_count"] == 12, "\(keep.text)")
        #expect(server.session.lastRequest?.truncation == PromptTruncation(keep: 0, room: 4))
        let fits = try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "a b", "raw": true, "stream": false}"#)
        #expect(fits.status == 200 && server.session.lastRequest?.truncation == nil, "\(fits.text)")
        let shimmy = try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "\#(words)"}"#)
        #expect(shimmy.status == 400 && shimmy.text.contains("maximum context length"), "\(shimmy.text)")
        let bad = try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "x", "options": {"num_keep": -2}}"#)
        #expect(bad.status == 400, "\(bad.text)")
    }

    @Test("an Ollama client's User-Agent alone selects Ollama's /api/generate; raw skips the template")
    func ollamaGenerateByUserAgent() throws {
        let server = try TestServer()
        let agent = "User-Agent: ollama-python/0.6.3 (x86_64 linux) Python/3.13.5"
        let whole = try #require(try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "hi", "stream": false}"#,
                                                             headers: [agent]).json)
        var request = try #require(server.session.lastRequest)
        #expect(request.prompt == .messages([.user("hi")]))
        #expect(request.sampling.temperature == 0.8, "Ollama's default temperature")
        #expect(whole["done"] == true && whole["response"]?.stringValue == server.session.expectedText(request), "\(whole.serialized)")

        let raw = try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "hi", "raw": true}"#)
        #expect(raw.header("Content-Type") == "application/x-ndjson", "stream defaults to true")
        request = try #require(server.session.lastRequest)
        #expect(request.prompt == .text("hi"))

        // without either, shimmy 1.1's form
        let shimmy = try #require(try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "hi"}"#,
                                                              headers: ["User-Agent: curl/8.5.0"]).json)
        #expect(shimmy["choices"]?[0]?["text"] != nil && shimmy["done"] == nil, "\(shimmy.serialized)")
        // a field only shimmy 1.1's form has wins over the User-Agent: max_tokens is obeyed
        let contract = try #require(try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "hi", "max_tokens": 3}"#,
                                                                headers: [agent]).json)
        #expect(contract["choices"]?[0]?["text"] != nil && contract["usage"]?["completion_tokens"] == 3, "\(contract.serialized)")
    }

    @Test("/api/generate in Ollama's form with an empty prompt loads the model")
    func ollamaGenerateLoad() throws {
        let server = try TestServer()
        let json = try #require(try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "keep_alive": "5m"}"#).json)
        #expect(json["done"] == true && json["done_reason"] == "load" && json["response"] == "", "\(json.serialized)")
        #expect(server.session.lastRequest == nil)
        let missing = try server.client().request("POST", "/api/generate", body: #"{"model": "nope", "prompt": "", "raw": false}"#)
        #expect(missing.status == 404 && missing.json?["error"]?["code"] == "model_not_found", "\(missing.text)")
    }

    @Test("/api/generate in Ollama's form refuses what it cannot follow",
          arguments: [#""format": "yaml""#, #""format": {"type": "string"}"#, #""suffix": "return x""#,
                      #""images": ["aGk="]"#, #""template": "{{ .Prompt }}""#, #""context": [1, 2]"#, #""think": true"#])
    func ollamaGenerateRefuses(field: String) throws {
        let server = try TestServer()
        let refused = try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "hi", "#  + field + "}")
        #expect(refused.status == 400 && refused.json?["error"]?["code"] == "invalid_request", "\(field): \(refused.text)")
        #expect(server.session.lastRequest == nil)
    }

    @Test("/api/generate in Ollama's form accepts those fields when they ask for nothing")
    func ollamaGenerateAcceptsEmpty() throws {
        let server = try TestServer()
        let body = #"{"model": "tiny", "prompt": "hi", "stream": false, "format": "", "suffix": "", "images": [], "template": "", "context": [], "think": false, "logprobs": false}"#
        let accepted = try server.client().request("POST", "/api/generate", body: body)
        #expect(accepted.status == 200 && accepted.json?["done"] == true, "\(accepted.text)")
    }

    @Test("/api/chat refuses a format other than json or an object schema, a tool without its function, think and images when they ask for something",
          arguments: [#""format": {"type": "array"}"#, #""tools": [{"type": "function"}]"#, #""think": true"#,
                      #""messages": [{"role": "user", "content": "x", "images": ["aGk="]}]"#])
    func chatRefuses(field: String) throws {
        let server = try TestServer()
        let messages = field.hasPrefix(#""messages""#) ? "" : #""messages": [{"role": "user", "content": "x"}], "#
        let response = try server.client().request("POST", "/api/chat", body: #"{"model": "tiny", "#  + messages + field + "}")
        #expect(response.status == 400 && response.json?["error"]?["code"] == "invalid_request", "\(field): \(response.text)")
        #expect(server.session.lastRequest == nil)
    }

    @Test("/api/chat with no messages loads the model; a name:latest is the model without the tag")
    func chatLoad() throws {
        let server = try TestServer()
        let json = try #require(try server.client().request("POST", "/api/chat", body: #"{"model": "tiny", "messages": [], "format": "", "tools": [], "think": false}"#).json)
        #expect(json["done"] == true && json["done_reason"] == "load" && json["message"]?["content"] == "", "\(json.serialized)")
        #expect(server.session.lastRequest == nil)
        let missing = try server.client().request("POST", "/api/chat", body: #"{"model": "nope"}"#)
        #expect(missing.status == 404, "\(missing.text)")
    }

    @Test("/api/tags, /api/show, /api/ps, /api/version")
    func metadata() throws {
        let server = try TestServer()
        let tags = try #require(try server.client().request("GET", "/api/tags").json)
        let model = try #require(tags["models"]?[0])
        #expect(model["name"] == "tiny" && model["model"] == "tiny" && model["size"] == 105_000_000)
        #expect(model["details"]?["format"] == "gguf")
        #expect(model["digest"]?.stringValue?.isEmpty == false)
        #expect(model["modified_at"]?.stringValue?.hasPrefix("2023-11-14T22:13:20") == true, "\(model)")

        let show = try #require(try server.client().request("POST", "/api/show", body: #"{"model": "tiny"}"#).json)
        #expect(show["template"] == "{{ messages }}")
        #expect(show["details"]?["quantization_level"] == "Q4_1" && show["details"]?["parameter_size"] == "135M")
        #expect(show["model_info"]?["llama.context_length"] == 8192 && show["model_info"]?["llama.embedding_length"] == 8
                && show["model_info"]?["llama.vocab_size"] == 50_000)
        #expect(show["modelfile"]?.stringValue?.contains("FROM tiny") == true)
        #expect(show["parameters"] != nil)

        let running = try #require(try server.client().request("GET", "/api/ps").json)
        #expect(running["models"]?[0]?["name"] == "tiny" && running["models"]?[0]?["size_vram"] == 0, "\(running.serialized)")
        #expect(running["models"]?[0]?["expires_at"]?.stringValue?.isEmpty == false)

        let version = try server.client().request("GET", "/api/version")
        #expect(version.json == ["version": "1.1.0"])
    }
}
