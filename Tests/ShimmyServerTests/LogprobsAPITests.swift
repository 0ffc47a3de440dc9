import Foundation
import Shimmy
import Testing
@testable import ShimmyServer

/// `logprobs` on OpenAI's and Ollama's routes: what the request asks the session for, and each API's shape, streamed
/// and whole, with `ScriptedSession`'s entries (token i: logprob -0.25 - i/2, then ` alt1`, ` alt2`... below it).
@Suite("logprobs API", .serialized)
struct LogprobsAPITests {
    let chat = #"{"model": "tiny", "messages": [{"role": "user", "content": "hi there"}], "max_tokens": 4"#

    /// Checks one `{token, logprob, bytes, top_logprobs}` entry against the scripted token `index`.
    func checkEntry(_ entry: JSONValue?, index: Int, prompt: Prompt, top: Int) {
        let word = ScriptedSession.token(index, prompt: prompt)
        let value = -0.25 - Double(index) / 2
        #expect(entry?["token"] == .string(word), "\(entry?.serialized ?? "nil")")
        #expect(entry?["logprob"]?.doubleValue == value)
        #expect(entry?["bytes"] == .array(word.utf8.map { .int(Int($0)) }))
        let alternatives = entry?["top_logprobs"]?.arrayValue ?? []
        #expect(alternatives.count == top)
        if top > 0 {
            #expect(alternatives[0]["token"] == .string(word) && alternatives[0]["logprob"]?.doubleValue == value)
            #expect(alternatives[0]["top_logprobs"] == nil)
        }
        if top > 1 {
            #expect(alternatives[1]["token"] == " alt1" && alternatives[1]["logprob"]?.doubleValue == value - 1)
            #expect(alternatives[1]["bytes"] == .array(" alt1".utf8.map { .int(Int($0)) }))
        }
    }

    @Test("chat: logprobs with top_logprobs reach the session; the choice lists every token's entry")
    func chatWhole() throws {
        let server = try TestServer()
        let response = try server.client().request("POST", "/v1/chat/completions",
                                                   body: chat + #", "logprobs": true, "top_logprobs": 3}"#)
        #expect(response.status == 200, "\(response.text)")
        let request = try #require(server.session.lastRequest)
        #expect(request.logprobs?.top == 3)
        let logprobs = response.json?["choices"]?[0]?["logprobs"]
        #expect(logprobs?["refusal"] == JSONValue.null)
        let content = logprobs?["content"]?.arrayValue ?? []
        #expect(content.count == 4)
        for (i, entry) in content.enumerated() { checkEntry(entry, index: i, prompt: request.prompt, top: 3) }
        #expect(content.compactMap { $0["token"]?.stringValue }.joined() == server.session.expectedText(request))

        let plain = try server.client().request("POST", "/v1/chat/completions", body: chat + "}")
        #expect(plain.json?["choices"]?[0]?["logprobs"] == JSONValue.null, "\(plain.text)")
        #expect(server.session.lastRequest?.logprobs == nil)
        let noTop = try server.client().request("POST", "/v1/chat/completions", body: chat + #", "logprobs": true}"#)
        #expect(server.session.lastRequest?.logprobs?.top == 0)
        checkEntry(noTop.json?["choices"]?[0]?["logprobs"]?["content"]?[0], index: 0, prompt: request.prompt, top: 0)
    }

    @Test("streamed chat: each content chunk carries its token's entry; a stop string's tokens, which give no text, have none")
    func chatStream() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", silentTail: 1)])
        let response = try server.client().request("POST", "/v1/chat/completions",
                                                   body: chat + #", "logprobs": true, "top_logprobs": 2, "stream": true}"#)
        let chunks = try sseData(response.text).dropLast().map { try JSONParser.parse(Array($0.utf8)) }
        let request = try #require(server.session.lastRequest)
        // role, three content chunks, finish
        #expect(chunks.count == 5, "\(response.text)")
        #expect(chunks[0]["choices"]?[0]?["logprobs"] == JSONValue.null)
        for i in 0..<3 {
            let entries = chunks[i + 1]["choices"]?[0]?["logprobs"]?["content"]?.arrayValue ?? []
            #expect(entries.count == 1)
            checkEntry(entries.first, index: i, prompt: request.prompt, top: 2)
            #expect(chunks[i + 1]["choices"]?[0]?["delta"]?["content"] == entries.first?["token"])
        }
        let finish = chunks[4]["choices"]?[0]
        #expect(finish?["finish_reason"] == "length")
        #expect(finish?["logprobs"] == JSONValue.null, "\(response.text)")
        // the same whole: three entries, which spell the content
        let whole = try server.client().request("POST", "/v1/chat/completions", body: chat + #", "logprobs": true}"#)
        let entries = whole.json?["choices"]?[0]?["logprobs"]?["content"]?.arrayValue ?? []
        #expect(entries.compactMap { $0["token"]?.stringValue }.joined()
                    == whole.json?["choices"]?[0]?["message"]?["content"]?.stringValue, "\(whole.text)")
        #expect(entries.count == 3)
    }

    @Test("text_offset counts the characters before each token's first byte, a character split across tokens too")
    func textOffsets() {
        let bytes: [[UInt8]] = [[0x61], [0xE6], [0x88, 0x91, 0x62], [0x63], [0xF0, 0x9F], [0x98, 0x80], [0x64]]  // a 我 b c 😀 d
        let entries = bytes.map { TokenLogprob(token: 0, bytes: $0, logprob: -1) }
        var offset = LogprobsJSON.TextOffset()
        let first = LogprobsJSON.openAICompletion(Array(entries.prefix(2)), offset: &offset)
        let rest = LogprobsJSON.openAICompletion(Array(entries.dropFirst(2)), offset: &offset)
        #expect(first["text_offset"] == [0, 1])
        #expect(rest["text_offset"] == [1, 3, 4, 4, 5], "\(rest.serialized)")
    }

    @Test("completions: logprobs N gives tokens, token_logprobs, top_logprobs objects and text offsets, whole and streamed")
    func completions() throws {
        let server = try TestServer()
        let body = #"{"model": "tiny", "prompt": "a b", "max_tokens": 3, "logprobs": 2"#
        let whole = try server.client().request("POST", "/v1/completions", body: body + "}")
        let request = try #require(server.session.lastRequest)
        #expect(request.logprobs?.top == 2)
        let words = (0..<3).map { ScriptedSession.token($0, prompt: request.prompt) }
        let logprobs = whole.json?["choices"]?[0]?["logprobs"]
        #expect(logprobs?["tokens"] == .array(words.map { .string($0) }), "\(whole.text)")
        #expect(logprobs?["token_logprobs"] == .array([.double(-0.25), .double(-0.75), .double(-1.25)]))
        #expect(logprobs?["top_logprobs"]?[1] == .object([(words[1], .double(-0.75)), (" alt1", .double(-1.75))]))
        let offsets = [0, words[0].count, words[0].count + words[1].count]
        #expect(logprobs?["text_offset"] == .array(offsets.map { .int($0) }))

        let stream = try server.client().request("POST", "/v1/completions", body: body + #", "stream": true}"#)
        let chunks = try sseData(stream.text).dropLast().map { try JSONParser.parse(Array($0.utf8)) }
        let streamed = chunks.compactMap { $0["choices"]?[0]?["logprobs"] }.filter { $0 != .null }
        #expect(streamed.count == 3, "\(stream.text)")
        #expect(streamed.compactMap { $0["text_offset"]?[0] } == offsets.map { .int($0) })
        #expect(chunks.last?["choices"]?[0]?["logprobs"] == JSONValue.null)

        let none = try server.client().request("POST", "/v1/completions", body: #"{"prompt": "a", "logprobs": null}"#)
        #expect(none.json?["choices"]?[0]?["logprobs"] == JSONValue.null && server.session.lastRequest?.logprobs == nil)
    }

    @Test("Ollama: logprobs and top_logprobs on /api/chat and /api/generate, streamed lines and one object")
    func ollama() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", silentTail: 1)])
        let options = #""logprobs": true, "top_logprobs": 2, "options": {"num_predict": 3}"#
        let lines = try server.client().request("POST", "/api/chat", body: #"{"model": "tiny", "messages": [{"role": "user", "content": "x"}], "#  + options + "}")
            .text.split(separator: "\n").map { try JSONParser.parse(Array($0.utf8)) }
        let request = try #require(server.session.lastRequest)
        #expect(request.logprobs?.top == 2)
        // two lines of text, each with its token's entry, then the last line (the silent token has none)
        #expect(lines.count == 3)
        for i in 0..<2 {
            #expect(lines[i]["logprobs"]?.arrayValue?.count == 1)
            checkEntry(lines[i]["logprobs"]?[0], index: i, prompt: request.prompt, top: 2)
        }
        #expect(lines[2]["done"] == true && lines[2]["logprobs"] == nil, "\(lines[2].serialized)")

        let whole = try server.client().request("POST", "/api/generate", body: #"{"model": "tiny", "prompt": "x", "stream": false, "#  + options + "}")
        let generated = try #require(server.session.lastRequest)
        #expect(whole.json?["logprobs"]?.arrayValue?.count == 2, "\(whole.text)")
        for i in 0..<2 { checkEntry(whole.json?["logprobs"]?[i], index: i, prompt: generated.prompt, top: 2) }

        // top_logprobs alone asks for nothing, as in Ollama; no logprobs, no field
        let alone = try server.client().request("POST", "/api/chat", body: #"{"model": "tiny", "messages": [{"role": "user", "content": "x"}], "stream": false, "top_logprobs": 3}"#)
        #expect(alone.status == 200 && alone.json?["logprobs"] == nil, "\(alone.text)")
        #expect(server.session.lastRequest?.logprobs == nil)
    }

    @Test("bad logprobs requests are 400s naming the field, before any generation",
          arguments: [("/v1/chat/completions", #""top_logprobs": 2"#, "top_logprobs"),
                      ("/v1/chat/completions", #""logprobs": false, "top_logprobs": 1"#, "top_logprobs"),
                      ("/v1/chat/completions", #""logprobs": true, "top_logprobs": 21"#, "top_logprobs"),
                      ("/v1/chat/completions", #""logprobs": 1"#, "logprobs"),
                      ("/v1/completions", #""logprobs": 21"#, "logprobs"),
                      ("/v1/completions", #""logprobs": true"#, "logprobs"),
                      ("/api/chat", #""logprobs": true, "top_logprobs": -1"#, "top_logprobs"),
                      ("/api/generate", #""logprobs": true, "top_logprobs": 21, "raw": true"#, "top_logprobs")])
    func refused(path: String, field: String, name: String) throws {
        let server = try TestServer()
        let input = path.hasSuffix("chat/completions") || path == "/api/chat"
            ? #""messages": [{"role": "user", "content": "x"}]"# : #""prompt": "x""#
        let response = try server.client().request("POST", path, body: #"{"model": "tiny", "#  + input + ", " + field + "}")
        #expect(response.status == 400, "\(field): \(response.text)")
        // OpenAI's error object names the field in `param`; shimmy's in the message
        let error = response.json?["error"]
        #expect(path.hasPrefix("/v1") ? error?["param"] == .string(name)
                    : error?["message"]?.stringValue?.contains("'\(name)'") == true, "\(response.text)")
        #expect(server.session.lastRequest == nil)
    }
}
