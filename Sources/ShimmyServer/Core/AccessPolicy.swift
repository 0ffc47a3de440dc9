/// API-key authentication and CORS, decided per request from the configuration.
struct AccessPolicy {
    let configuration: ServerConfiguration

    /// Paths that never need the key (load balancers and probes call them).
    static let openPaths: Set<String> = ["/health", "/api/health"]

    /// Throws 401 `unauthorized` when a key is configured and the request does not carry it as a Bearer token.
    func authorize(_ request: HTTPRequest, path: String) throws {
        guard let key = configuration.apiKey, !key.isEmpty, !AccessPolicy.openPaths.contains(path) else { return }
        let header = request.header("Authorization") ?? ""
        let prefix = "bearer "
        let token = header.lowercased().hasPrefix(prefix) ? String(header.dropFirst(prefix.count)) : ""
        guard AccessPolicy.constantTimeEqual(Array(token.utf8), Array(key.utf8)) else {
            throw APIError(status: 401, code: "unauthorized", message: "Missing or invalid API key",
                           details: header.isEmpty ? "send 'Authorization: Bearer <key>'" : "the API key does not match",
                           headers: [("WWW-Authenticate", "Bearer")])
        }
    }

    /// The origin to echo, when CORS is on and the request's Origin is allowed.
    func allowedOrigin(_ request: HTTPRequest) -> String? {
        guard !configuration.corsOrigins.isEmpty, let origin = request.header("Origin") else { return nil }
        if configuration.corsOrigins.contains("*") { return "*" }
        return configuration.corsOrigins.contains(origin) ? origin : nil
    }

    /// `Access-Control-Allow-Origin` (and `Vary: Origin`) for an allowed origin; nothing otherwise.
    func corsHeaders(for request: HTTPRequest) -> [(name: String, value: String)] {
        guard let origin = allowedOrigin(request) else { return [] }
        var headers: [(name: String, value: String)] = [("Access-Control-Allow-Origin", origin)]
        if origin != "*" { headers.append(("Vary", "Origin")) }
        return headers
    }

    /// The 204 answer to a CORS preflight from an allowed origin; nil when CORS does not apply.
    func preflight(_ request: HTTPRequest) -> HTTPResponse? {
        guard request.header("Access-Control-Request-Method") != nil, allowedOrigin(request) != nil else { return nil }
        return HTTPResponse(status: 204, headers: [
            ("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS"),
            ("Access-Control-Allow-Headers", request.header("Access-Control-Request-Headers") ?? "Authorization, Content-Type"),
            ("Access-Control-Max-Age", "600"),
        ])
    }

    /// Compares without an early exit, so the time taken does not reveal how much of the key matched.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
