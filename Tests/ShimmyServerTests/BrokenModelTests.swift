import Foundation
import GGUF
import Shimmy
@testable import ShimmyServer
import ShimmyTestSupport
import Testing

/// A real `ModelRegistry` over a folder holding broken GGUF files beside a valid model (the default model,
/// linked): a broken model answers 500 server_error naming the problem, and the server keeps serving the good one.
/// Also the security defaults that need a real registry: names never reach files outside the model folders.
@Suite("Server with broken models", .serialized)
struct BrokenModelTests {
    /// Each broken file and the parser error its bytes produce.
    static func brokenFiles() throws -> [(name: String, bytes: [UInt8])] {
        var magic = try makeGGUF()
        magic.patch(bytes: Array("GGML".utf8), at: 0)
        var (overflow, layout) = try makeGGUFWithLayout()
        overflow.patch(UInt64(1) << 40, at: layout.tensorCountOffset)
        let full = try makeGGUF()
        return [("badmagic", magic), ("truncated", Array(full.prefix(full.count - 40))), ("toomany", overflow),
                ("empty", [])]
    }

    enum FixtureError: Error { case request(model: String, error: String) }

    /// A server over a fresh folder with the broken files, a non-model GGUF and `good.gguf` → the default model.
    final class Fixture {
        let folder: URL
        let server: ShimmyHTTPServer

        init() throws {
            folder = try TestPaths.temporaryDirectory()
            for (name, bytes) in try BrokenModelTests.brokenFiles() {
                try Data(bytes).write(to: folder.appendingPathComponent("\(name).gguf"))
            }
            try Data(try makeGGUF()).write(to: folder.appendingPathComponent("notamodel.gguf"))
            try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("good.gguf").path,
                                                       withDestinationPath: TestPaths.defaultModel)
            let registry = ModelRegistry(searchPaths: [folder.path])
            server = ShimmyHTTPServer(catalog: registry, configuration: ServerConfiguration(port: 0),
                                      logger: ShimmyHTTPServer.silentLogger)
            try server.start()
        }

        deinit { server.stop() }

        /// One generation request; a read timeout (the test client waits 10 s; a debug build on a busy machine
        /// can be slower) is retried twice and then reported with the model's name.
        func generate(_ model: String) throws -> RawResponse {
            let body = #"{"model": "\#(model)", "prompt": "Hello", "max_tokens": 1, "temperature": 0}"#
            for attempt in 1...3 {
                do {
                    return try TestClient(port: server.port).request("POST", "/api/generate", body: body)
                } catch TestClientError.timeout where attempt < 3 {
                    continue
                } catch {
                    throw FixtureError.request(model: model, error: "\(error)")
                }
            }
            throw FixtureError.request(model: model, error: "no answer")
        }
    }

    @Test("a broken model answers 500 server_error naming the problem; the good one still answers 200")
    func brokenThenGood() throws {
        let fixture = try Fixture()
        // Loads the good model once: a debug build can take longer than the test client's 10 s read timeout.
        _ = try? fixture.generate("good")
        for (name, bytes) in try Self.brokenFiles() {
            var expected = ""
            do {
                _ = try parseGGUF(bytes)
                Issue.record("\(name): the broken bytes parsed")
            } catch {
                expected = error.description
            }
            let r = try fixture.generate(name)
            #expect(r.status == 500, "\(name): status \(r.status): \(r.text)")
            #expect(r.json?["error"]?["code"] == "server_error", "\(name): \(r.text)")
            let details = r.json?["error"]?["details"]?.stringValue ?? ""
            #expect(details.contains(expected), "\(name): details '\(details)' do not contain '\(expected)'")
        }
        let good = try fixture.generate("good")
        #expect(good.status == 200, "after the broken models: good model answered \(good.status): \(good.text)")
        #expect(good.json?["choices"]?[0]?["text"]?.stringValue != nil, "after the broken models: \(good.text)")
    }

    @Test("a valid GGUF that is not a model: 500 server_error naming the missing key")
    func notAModel() throws {
        let fixture = try Fixture()
        let r = try fixture.generate("notamodel")
        #expect(r.status == 500, "status \(r.status): \(r.text)")
        #expect(r.json?["error"]?["code"] == "server_error", "\(r.text)")
        #expect((r.json?["error"]?["details"]?.stringValue ?? "").contains("missing the key"), "\(r.text)")
    }

    @Test("model names never reach files outside the model folders", arguments: [
        "../../etc/passwd", "/etc/passwd", "..", "good/../../x", "./good.gguf", "%2e%2e/etc/passwd",
        "../good", "/proc/self/environ",
    ])
    func traversal(name: String) throws {
        let fixture = try Fixture()
        let r = try fixture.generate(name)
        #expect(r.status == 404, "\(name): status \(r.status): \(r.text)")
        #expect(r.json?["error"]?["code"] == "model_not_found", "\(name): \(r.text)")
    }

    @Test("a prompt longer than the context is 400 invalid_request with details (real model)")
    func promptOverContext() throws {
        let folder = try TestPaths.temporaryDirectory()
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("good.gguf").path,
                                                   withDestinationPath: TestPaths.defaultModel)
        let registry = ModelRegistry(searchPaths: [folder.path], options: ModelOptions(contextLength: 64))
        let server = ShimmyHTTPServer(catalog: registry, configuration: ServerConfiguration(port: 0),
                                      logger: ShimmyHTTPServer.silentLogger)
        try server.start()
        defer { server.stop() }
        let prompt = String(repeating: "hello world ", count: 200)
        let body = #"{"model": "good", "prompt": "\#(prompt)", "max_tokens": 2}"#
        let r = try TestClient(port: server.port).request("POST", "/api/generate", body: body)
        #expect(r.status == 400, "status \(r.status): \(r.text)")
        #expect(r.json?["error"]?["code"] == "invalid_request", "\(r.text)")
        #expect((r.json?["error"]?["details"]?.stringValue ?? "").isEmpty == false, "no details: \(r.text)")

        // an empty prompt is refused before a stream starts
        for stream in [false, true] {
            let empty = try TestClient(port: server.port).request(
                "POST", "/api/generate", body: #"{"model": "good", "prompt": "", "max_tokens": 2, "stream": \#(stream)}"#)
            #expect(empty.status == 400, "stream \(stream): status \(empty.status): \(empty.text)")
            #expect(empty.json?["error"]?["code"] == "invalid_request", "stream \(stream): \(empty.text)")
        }
    }

    @Test("the default configuration binds to loopback, has no API key and no CORS")
    func defaults() {
        let c = ServerConfiguration()
        #expect(c.host == "127.0.0.1")
        #expect(c.apiKey == nil)
        #expect(c.corsOrigins.isEmpty)
        #expect(c.requestTimeoutSeconds > 0 && c.requestTimeoutSeconds <= 60, "\(c.requestTimeoutSeconds)")
        #expect(c.idleTimeoutSeconds > 0 && c.idleTimeoutSeconds <= 120, "\(c.idleTimeoutSeconds)")
    }
}
