import Foundation
import Shimmy

/// The shimmy 1.1 API: `/api/generate`, `/api/models`, `/api/health`.
extension Routes {
    /// GET /api/health: `{"status": "healthy", "models_loaded", "memory_usage"}`.
    func health() throws -> HTTPResponse {
        let catalog = context.catalog
        let loaded = try blockingAwait { await catalog.loadedModelCount() }
        return .json(["status": "healthy", "models_loaded": .int(loaded),
                      "memory_usage": .string(MemoryUsage.formatted(MemoryUsage.residentBytes()))])
    }

    /// GET /api/models: `{"models": [{"id", "name", "description"}]}`, the default model first.
    func shimmyModels() -> HTTPResponse {
        let available = context.catalog.availableModels()
        var models = available.map { model -> JSONValue in
            ["id": .string(model.name), "name": .string(model.name),
             "description": .string("GGUF model, \(ModelDescriptor.sizeText(model.sizeBytes))")]
        }
        // the contract's entry for the name `default`, which every route takes: the default model (listed first)
        if let first = available.first {
            models.insert(["id": "default", "name": "Default Model",
                           "description": .string("Base GGUF model (\(first.name), \(ModelDescriptor.sizeText(first.sizeBytes)))")],
                          at: 0)
        }
        return .json(["models": .array(models)])
    }

    /// POST /api/generate: one JSON response, or SSE `data: {"choices":[{"text","index"}]}` events then `[DONE]`.
    /// An Ollama client's request (`OllamaRequestDecoder.isOllamaGenerate`) gets Ollama's answer instead.
    func generate() throws -> RouteOutcome {
        let fields = try FieldReader.parse(request.body)
        if OllamaRequestDecoder.isOllamaGenerate(fields, userAgent: request.header("User-Agent")) {
            return try ollamaGenerate(fields)
        }
        let decoded = try ShimmyRequestDecoder.generate(fields)
        if !decoded.stream {
            return try respondWhole(decoded) { completed in
                ["choices": [["text": .string(completed.text), "index": 0,
                              "finish_reason": .string(completed.stats.finishReason.apiValue)]],
                 "usage": completed.stats.usageJSON]
            }
        }
        return try respondStreaming(
            decoded, contentType: "text/event-stream",
            event: { text, _ in SSE.event(["choices": [["text": .string(text), "index": 0]]]) },
            finish: { _, _ in SSE.done },
            failure: { SSE.event($0.json) })
    }
}

