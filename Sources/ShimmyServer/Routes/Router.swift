/// Maps method and path to a handler; every failure becomes the API error object.
struct Router: Sendable {
    let context: ServerContext

    func handle(_ request: HTTPRequest, on connection: Connection) -> RouteOutcome {
        // trailing slashes dropped (one scan: `count` in a loop was quadratic in a path of slashes)
        var path = request.path
        if let last = path.lastIndex(where: { $0 != "/" }) {
            path = String(path[...last])
        } else if !path.isEmpty {
            path = "/"
        }
        let routes = Routes(context: context, request: request, connection: connection)
        let access = AccessPolicy(configuration: context.configuration)
        connection.responseHeaders = access.corsHeaders(for: request)
        if request.method == "OPTIONS", let preflight = access.preflight(request) { return .response(preflight) }
        do {
            try access.authorize(request, path: path)
            switch path {
            case "/":  // Ollama answers its root with a line of text, which probes check for a running server
                try allow(request, "GET")
                return .response(HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; charset=utf-8")],
                                              body: Array("shimmy is running".utf8)))
            case "/openapi.json": try allow(request, "GET"); return .response(.json(OpenAPIDocument.document))
            case "/health", "/api/health": try allow(request, "GET"); return .response(try routes.health())
            case "/api/generate": try allow(request, "POST"); return try routes.generate()
            case "/api/models": try allow(request, "GET"); return .response(routes.shimmyModels())
            case "/ws/generate": try allow(request, "GET"); return routes.webSocket()
            case "/v1/chat/completions": try allow(request, "POST"); return try routes.chatCompletions()
            case "/v1/completions": try allow(request, "POST"); return try routes.completions()
            case "/v1/models": try allow(request, "GET"); return .response(routes.openAIModels())
            case "/v1/embeddings": try allow(request, "POST"); return try routes.openAIEmbeddings()
            case "/api/embed": try allow(request, "POST"); return try routes.ollamaEmbed()
            case "/api/embeddings": try allow(request, "POST"); return try routes.ollamaEmbeddings()
            case "/api/chat": try allow(request, "POST"); return try routes.ollamaChat()
            case "/api/tags": try allow(request, "GET"); return .response(routes.ollamaTags())
            case "/api/ps": try allow(request, "GET"); return .response(try routes.ollamaRunning())
            case "/api/show": try allow(request, "POST"); return .response(try routes.ollamaShow())
            case "/api/version": try allow(request, "GET"); return .response(routes.ollamaVersion())
            default:
                if path.hasPrefix("/v1/models/") {
                    try allow(request, "GET")
                    return .response(try routes.openAIModel(String(path.dropFirst("/v1/models/".count))))
                }
                throw APIError.routeNotFound(request.method, path)
            }
        } catch {
            let apiError = APIError(error)
            return .response(path.hasPrefix("/v1/") ? apiError.openAIResponse : apiError.response)
        }
    }

    /// Throws 405 unless the request uses `method` (HEAD wherever GET works; `Allow` names both).
    private func allow(_ request: HTTPRequest, _ method: String) throws {
        let allowed = method == "GET" ? ["GET", "HEAD"] : [method]
        guard allowed.contains(request.method) else {
            throw APIError.methodNotAllowed(request.method, request.path, allowed: allowed)
        }
    }
}

/// The handlers for one request.
struct Routes {
    let context: ServerContext
    let request: HTTPRequest
    let connection: Connection
}
