import Foundation
import Shimmy
import ShimmyTestSupport
import Testing
@testable import ShimmyServer

@Suite("API key, CORS, OpenAPI", .serialized)
struct AccessPolicyTests {
    @Test("with an API key every route but health needs the Bearer token", arguments: [
        ("GET", "/api/health", nil as String?, 200),
        ("GET", "/health", nil, 200),
        ("GET", "/api/models", nil, 401),
        ("GET", "/api/models", "Bearer wrong", 401),
        ("GET", "/api/models", "Bearer s3cret", 200),
        ("GET", "/v1/models", "bearer s3cret", 200),
        ("POST", "/api/generate", "Basic s3cret", 401),
        ("GET", "/ws/generate", nil, 401),
        ("GET", "/openapi.json", nil, 401),
    ])
    func apiKey(method: String, path: String, authorization: String?, status: Int) throws {
        let server = try TestServer { $0.apiKey = "s3cret" }
        let headers = authorization.map { ["Authorization: \($0)"] } ?? []
        let response = try server.client().request(method, path, body: method == "POST" ? "{}" : nil, headers: headers)
        #expect(response.status == status, "\(method) \(path) with \(authorization ?? "no header"): \(response.text)")
        if status == 401 {
            #expect(response.json?["error"]?["code"] == "unauthorized")
            #expect(response.header("WWW-Authenticate") == "Bearer")
        }
    }

    @Test("constant-time comparison agrees with ==", arguments: [("a", "a"), ("a", "b"), ("", "x"), ("abc", "ab"), ("", "")])
    func constantTime(a: String, b: String) {
        #expect(AccessPolicy.constantTimeEqual(Array(a.utf8), Array(b.utf8)) == (a == b))
    }

    @Test("CORS is off by default")
    func corsOff() throws {
        let server = try TestServer()
        let response = try server.client().request("GET", "/api/version", headers: ["Origin: http://app.example"])
        #expect(response.header("Access-Control-Allow-Origin") == nil)
        let preflight = try server.client().request("OPTIONS", "/api/generate", headers: [
            "Origin: http://app.example", "Access-Control-Request-Method: POST",
        ])
        #expect(preflight.status == 405 && preflight.header("Access-Control-Allow-Origin") == nil)
    }

    @Test("--cors-origins: allowed origins get the headers, on streams and preflights too; others do not")
    func corsOn() throws {
        let server = try TestServer {
            $0.corsOrigins = ["http://app.example"]
            $0.apiKey = "k"
        }
        let preflight = try server.client().request("OPTIONS", "/v1/chat/completions", headers: [
            "Origin: http://app.example", "Access-Control-Request-Method: POST",
            "Access-Control-Request-Headers: authorization, content-type",
        ])
        #expect(preflight.status == 204, "preflight needs no key: \(preflight.text)")
        #expect(preflight.header("Access-Control-Allow-Origin") == "http://app.example")
        #expect(preflight.header("Access-Control-Allow-Headers") == "authorization, content-type")
        let stream = try server.client().request("POST", "/api/generate",
                                                 body: #"{"model": "tiny", "prompt": "x", "max_tokens": 2, "stream": true}"#,
                                                 headers: ["Origin: http://app.example", "Authorization: Bearer k"])
        #expect(stream.status == 200)
        #expect(stream.header("Access-Control-Allow-Origin") == "http://app.example")
        #expect(stream.header("Vary") == "Origin")
        let other = try server.client().request("GET", "/health", headers: ["Origin: http://evil.example"])
        #expect(other.header("Access-Control-Allow-Origin") == nil)
    }

    @Test("/openapi.json is served and equals docs/openapi.json")
    func openAPI() throws {
        let server = try TestServer()
        let served = try #require(try server.client().request("GET", "/openapi.json").json)
        #expect(served["openapi"] == "3.0.3")
        let paths = served["paths"]?.objectValue?.map(\.0) ?? []
        for path in ["/api/generate", "/api/models", "/api/health", "/v1/chat/completions", "/v1/completions", "/v1/models",
                     "/v1/models/{id}", "/api/chat", "/api/tags", "/api/ps", "/api/show", "/api/version", "/ws/generate"] {
            #expect(paths.contains(path), "missing \(path)")
        }
        let file = TestPaths.repositoryRoot.appendingPathComponent("docs/openapi.json")
        let data = try Data(contentsOf: file)
        let committed = try JSONParser.parse([UInt8](data))
        #expect(committed == served, "docs/openapi.json is stale: regenerate it from GET /openapi.json")
    }
}
