/// The OpenAPI 3 description of every route, served at `/openapi.json` and kept in `docs/openapi.json`
/// (a test holds the two equal).
public enum OpenAPIDocument {
    private static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
    private static func string(_ description: String, minLength: Int? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [("type", "string"), ("description", .string(description))]
        if let minLength { members.append(("minLength", .int(minLength))) }
        return .object(members)
    }
    private static func integer(_ description: String, minimum: Int? = nil, maximum: Int? = nil, defaultValue: Int? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [("type", "integer"), ("description", .string(description))]
        if let minimum { members.append(("minimum", .int(minimum))) }
        if let maximum { members.append(("maximum", .int(maximum))) }
        if let defaultValue { members.append(("default", .int(defaultValue))) }
        return .object(members)
    }
    /// The ranges the decoders check (`RequestRanges`), so that the document says what a request may hold.
    private static let seed = integer("Fixes the random sequence; -1 is a random one.", minimum: RequestRanges.seed.lowerBound,
                                      maximum: RequestRanges.seed.upperBound)
    private static func tokens(_ description: String, defaultValue: Int? = nil) -> JSONValue {
        integer(description, minimum: RequestRanges.maxTokens.lowerBound, maximum: RequestRanges.maxTokens.upperBound,
                defaultValue: defaultValue)
    }
    /// Fields of Ollama's embedding requests that shimmy accepts and ignores.
    private static let ollamaIgnored: [(String, JSONValue)] = [
        ("options", ["type": "object", "description": "Accepted and ignored."]),
        ("keep_alive", ["oneOf": [["type": "string"], ["type": "number"]], "description": "Accepted and ignored."]),
    ]
    private static let tokenID = integer("A token id.", minimum: RequestRanges.tokenID.lowerBound, maximum: RequestRanges.tokenID.upperBound)
    /// OpenAI's `response_format`: free text or JSON mode.
    private static let responseFormat = object([("type", ["type": "string", "enum": ["text", "json_object", "json_schema"],
                                                         "description": "json_object: the answer is one JSON object (JSON mode); json_schema: one of json_schema.schema."]),
                                                ("json_schema", object([("name", string("")), ("strict", ["type": "boolean"]),
                                                                        ("schema", ["type": "object", "description": "A JSON schema whose root is an object (docs/API.md lists the keywords followed)."])]))],
                                               required: ["type"])
    /// OpenAI's and Ollama's `tools`.
    private static let tools: JSONValue = [
        "type": "array", "maxItems": .int(ToolRequest.mostTools),
        "description": "Functions the model may call (docs/API.md, Tool calling).",
        "items": object([("type", ["type": "string", "enum": ["function"]]),
                         ("function", object([("name", string("", minLength: 1)), ("description", string("")),
                                              ("parameters", ["type": "object", "description": "A JSON schema whose root is an object (the keywords of structured output)."])],
                                             required: ["name"]))],
                        required: ["function"]),
    ]
    /// A call in an assistant message of the conversation.
    private static let toolCall = object([("id", string("")), ("type", ["type": "string", "enum": ["function"]]),
                                          ("function", object([("name", string("")), ("arguments", string("The arguments as JSON text."))],
                                                              required: ["name"]))],
                                         required: ["function"])
    private static func topLogprobs(_ description: String) -> JSONValue {
        integer(description, minimum: RequestRanges.topLogprobs.lowerBound, maximum: RequestRanges.topLogprobs.upperBound)
    }
    private static func topK(_ description: String) -> JSONValue {
        integer(description, minimum: RequestRanges.topK.lowerBound, maximum: RequestRanges.topK.upperBound, defaultValue: 40)
    }
    private static func number(_ description: String, _ range: ClosedRange<Double>, defaultValue: Double? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [("type", "number"), ("description", .string(description)),
                                              ("minimum", .double(range.lowerBound)), ("maximum", .double(range.upperBound))]
        if let defaultValue { members.append(("default", .double(defaultValue))) }
        return .object(members)
    }
    private static func boolean(_ description: String, defaultValue: Bool) -> JSONValue {
        ["type": "boolean", "description": .string(description), "default": .bool(defaultValue)]
    }
    private static func object(_ properties: [(String, JSONValue)], required: [String] = []) -> JSONValue {
        var members: [(String, JSONValue)] = [("type", "object"), ("properties", .object(properties))]
        if !required.isEmpty { members.append(("required", .array(required.map { .string($0) }))) }
        return .object(members)
    }
    private static func jsonBody(_ schema: JSONValue) -> JSONValue {
        ["required": true, "content": ["application/json": ["schema": schema]]]
    }
    private static func ok(_ description: String, _ schema: JSONValue, streaming: String? = nil) -> JSONValue {
        var content: [(String, JSONValue)] = [("application/json", ["schema": schema])]
        if let streaming { content.append((streaming, ["schema": streaming == "text/event-stream" ? serverSentEvent : ["type": "string"]])) }
        return ["description": .string(description), "content": .object(content)]
    }
    /// `/api/generate`: shimmy 1.1's completion or SSE, or Ollama's object or NDJSON lines.
    private static let generateResponse: JSONValue = [
        "description": "Completion, or SSE when stream is true; in Ollama's form one object, or NDJSON lines when streaming",
        "content": .object([
            ("application/json", ["schema": ["anyOf": [ref("GenerateResponse"),
                                                       object([("model", string("")), ("created_at", string("")), ("response", string("")),
                                                               ("done", ["type": "boolean"])],
                                                              required: ["model", "created_at", "response", "done"])]]]),
            ("text/event-stream", ["schema": serverSentEvent]),
            ("application/x-ndjson", ["schema": ["type": "string"]]),
        ]),
    ]
    /// One server-sent event (OpenAPI before 3.2: a `text/event-stream` schema describes each event).
    private static let serverSentEvent: JSONValue = [
        "type": "object", "required": ["data"],
        "properties": ["data": ["type": "string", "description": "A JSON object, or [DONE] at the end."],
                       "event": ["type": "string"], "id": ["type": "string"], "retry": ["type": "integer"]],
    ]
    private static let errors: [(String, JSONValue)] = [
        ("400", ["$ref": "#/components/responses/InvalidRequest"]),
        ("401", ["$ref": "#/components/responses/Unauthorized"]),
        ("404", ["$ref": "#/components/responses/NotFound"]),
        ("405", ["$ref": "#/components/responses/MethodNotAllowed"]),
        ("408", ["$ref": "#/components/responses/RequestTimeout"]),
        ("413", ["$ref": "#/components/responses/TooLarge"]),
        ("431", ["$ref": "#/components/responses/TooLarge"]),
        ("500", ["$ref": "#/components/responses/ServerError"]),
        ("503", ["$ref": "#/components/responses/Busy"]),
    ]
    private static func operation(_ summary: String, tag: String, body: JSONValue? = nil, response: JSONValue,
                                  secured: Bool = true) -> JSONValue {
        var members: [(String, JSONValue)] = [("summary", .string(summary)), ("tags", [.string(tag)])]
        if let body { members.append(("requestBody", body)) }
        members.append(("responses", .object([("200", response)] + errors)))
        if !secured { members.append(("security", [])) }
        return .object(members)
    }

    /// `stop`: one string or at most `maxItems`.
    private static func stop(maxItems: Int = RequestRanges.stopStrings) -> JSONValue {
        ["oneOf": [["type": "string"], ["type": "array", "items": ["type": "string"], "maxItems": .int(maxItems)]],
         "description": "Generation stops before any of these strings."]
    }

    private static let sampling: [(String, JSONValue)] = [
        ("temperature", number("Sampling temperature; 0 is greedy.", RequestRanges.temperature, defaultValue: 0.7)),
        ("top_p", number("Nucleus sampling.", RequestRanges.probability, defaultValue: 0.95)),
        ("stop", stop(maxItems: RequestRanges.openAIStopStrings)),
        ("seed", seed),
        ("top_k", topK("Top-k sampling; 0 disables (llama.cpp's extension).")),
        ("min_p", number("Min-p sampling; 0 disables (llama.cpp's extension).", RequestRanges.probability, defaultValue: 0.05)),
        ("repeat_penalty", number("1 disables (llama.cpp's extension).", RequestRanges.repeatPenalty, defaultValue: 1)),
        ("repeat_last_n", integer("Tokens the penalties look at; -1: the whole context (llama.cpp's extension).", minimum: RequestRanges.repeatLastN.lowerBound,
                                  maximum: RequestRanges.repeatLastN.upperBound, defaultValue: 64)),
        ("logit_bias", ["type": "object", "maxProperties": .int(RequestRanges.logitBiasTokens),
                        "additionalProperties": number("", RequestRanges.logitBias),
                        "description": "Token id (the model's own, as a string) to a bias added to its logit."]),
    ]

    private static let schemas: [(String, JSONValue)] = [
        ("Error", object([("error", object([("code", string("model_not_found, invalid_request, generation_failed, server_error, or unauthorized, not_found, method_not_allowed, server_busy.")),
                                             ("message", string("What happened.")),
                                             ("details", ["type": "string", "nullable": true])], required: ["code", "message", "details"]))],
                         required: ["error"])),
        ("Usage", object([("prompt_tokens", integer("")), ("completion_tokens", integer("")), ("total_tokens", integer(""))])),
        ("GenerateRequest", object([
            ("model", string("Model name; \"default\" is the default model.", minLength: 1)),
            ("prompt", string("Input prompt.", minLength: 1)),
            ("max_tokens", tokens("Most tokens to generate.", defaultValue: 100)),
            ("temperature", number("Sampling temperature; 0 is greedy.", RequestRanges.temperature, defaultValue: 0.7)),
            ("stream", boolean("Server-Sent Events: data: {\"choices\":[{\"text\",\"index\"}]} then data: [DONE].", defaultValue: false)),
            ("top_p", number("Nucleus sampling.", RequestRanges.probability, defaultValue: 0.95)),
            ("top_k", topK("Top-k sampling; 0 disables.")),
            ("stop", stop()),
            ("seed", seed),
        ], required: ["model", "prompt"])),
        ("GenerateResponse", object([
            ("choices", ["type": "array", "items": object([("text", string("")), ("index", integer("")),
                                                             ("finish_reason", ["type": "string", "enum": ["stop", "length"]])])]),
            ("usage", ref("Usage")),
        ])),
        ("ChatMessage", object([("role", string("system, developer, user, assistant or tool")),
                                ("content", ["oneOf": [["type": "string"],
                                                      ["type": "array",
                                                       "items": object([("type", ["type": "string", "enum": ["text"]]), ("text", string(""))],
                                                                       required: ["type", "text"])]],
                                             "nullable": true]),
                                ("tool_calls", ["type": "array", "items": toolCall, "description": "An assistant's calls."]),
                                ("tool_call_id", string("A tool result's call."))],
                               required: ["role"])),
        ("ChatCompletionRequest", object([
            ("model", string("Model name.")), ("messages", ["type": "array", "items": ref("ChatMessage"), "minItems": 1]),
            ("max_tokens", tokens("Most tokens to generate; default: the rest of the context.")),
            ("max_completion_tokens", tokens("Same as max_tokens.")),
            ("stream", boolean("Server-Sent Events of chat.completion.chunk objects, then data: [DONE].", defaultValue: false)),
            ("stream_options", object([("include_usage", boolean("A last chunk with usage.", defaultValue: false))])),
            ("presence_penalty", number("", RequestRanges.penalty, defaultValue: 0)), ("frequency_penalty", number("", RequestRanges.penalty, defaultValue: 0)),
            ("n", integer("Only 1 is supported.", minimum: 1, maximum: 1, defaultValue: 1)),
            ("logprobs", boolean("Each generated token's log-probability, in choices[].logprobs.content.", defaultValue: false)),
            ("top_logprobs", topLogprobs("Most likely tokens listed at each position; above 0 needs logprobs: true.")),
            ("response_format", responseFormat),
            ("tools", tools),
            ("tool_choice", ["oneOf": [["type": "string", "enum": ["none", "auto", "required"]],
                                       object([("type", ["type": "string", "enum": ["function"]]),
                                               ("function", object([("name", string(""))], required: ["name"]))],
                                              required: ["function"])],
                             "description": "auto (the default with tools): call tools or answer; required: call; a named function: call it; none: no tools."]),
            ("parallel_tool_calls", boolean("More than one call in an answer.", defaultValue: false)),
        ] + sampling, required: ["messages"])),
        ("CompletionRequest", object([
            ("model", string("Model name.")),
            ("prompt", ["oneOf": [["type": "string", "minLength": 1], ["type": "array", "items": ["type": "string", "minLength": 1], "minItems": 1, "maxItems": 1]]]),
            ("max_tokens", tokens("Most tokens to generate; default: the rest of the context.")),
            ("stream", boolean("Server-Sent Events of text_completion objects, then data: [DONE].", defaultValue: false)),
            ("stream_options", object([("include_usage", boolean("A last chunk with usage.", defaultValue: false))])),
            ("presence_penalty", number("", RequestRanges.penalty, defaultValue: 0)), ("frequency_penalty", number("", RequestRanges.penalty, defaultValue: 0)),
            ("logprobs", topLogprobs("Each generated token's log-probability with this many most likely tokens, in choices[].logprobs.")),
            ("response_format", responseFormat),
        ] + sampling, required: ["prompt"])),
        ("OpenAIModel", object([("id", string("")), ("object", string("model")), ("created", integer("Unix time")), ("owned_by", string("shimmy"))])),
        ("EmbeddingRequest", object([
            ("model", string("Model name; default: the default model.")),
            ("input", ["oneOf": [["type": "string", "minLength": 1],
                                 ["type": "array", "items": ["type": "string", "minLength": 1], "minItems": 1, "maxItems": .int(RequestRanges.embeddingInputs)],
                                 ["type": "array", "items": tokenID, "minItems": 1],
                                 ["type": "array", "items": ["type": "array", "items": tokenID, "minItems": 1], "minItems": 1, "maxItems": .int(RequestRanges.embeddingInputs)]],
                       "description": "Text, texts, token ids or arrays of token ids; one embedding each: the last token's final hidden state, unit length."]),
            ("encoding_format", ["type": "string", "enum": ["float", "base64"], "default": "float",
                                 "description": "base64: the little-endian f32 values."]),
            ("dimensions", integer("Keep the first values (renormalized); at most the model's embedding length.",
                                   minimum: RequestRanges.dimensions.lowerBound, maximum: RequestRanges.dimensions.upperBound)),
            ("user", string("Ignored.")),
        ], required: ["input"])),
        ("OllamaEmbedRequest", object([
            ("model", string("Model name.", minLength: 1)),
            ("input", ["oneOf": [["type": "string"], ["type": "array", "items": ["type": "string", "minLength": 1], "maxItems": .int(RequestRanges.embeddingInputs)]],
                       "description": "Text or texts; none only loads the model."]),
            ("truncate", boolean("Cut an input longer than the context; false: an error.", defaultValue: true)),
            ("dimensions", integer("Keep the first values (renormalized); 0 or more than the model has: all.", minimum: 0,
                                   maximum: RequestRanges.dimensions.upperBound)),
            ] + ollamaIgnored, required: ["model"])),
        ("OllamaChatRequest", object([
            ("model", string("Model name.", minLength: 1)),
            ("messages", ["type": "array",
                          "items": object([("role", string("system, user, assistant or tool")), ("content", string("")),
                                           ("tool_calls", ["type": "array", "description": "An assistant's calls.",
                                                           "items": object([("function", object([("name", string("")), ("arguments", ["type": "object"])],
                                                                                                required: ["name"]))],
                                                                           required: ["function"])]),
                                           ("tool_name", string("The tool whose result this is."))],
                                          required: ["role"]),
                          "description": "None or [] only loads the model (done_reason load)."]),
            ("tools", tools),
            ("stream", boolean("NDJSON lines, the last with done: true and counts.", defaultValue: true)),
            ("logprobs", boolean("Each generated token's log-probability, in logprobs.", defaultValue: false)),
            ("top_logprobs", topLogprobs("Most likely tokens listed at each position (with logprobs: true).")),
            ("format", ["oneOf": [["type": "string", "enum": ["", "json"]], ["type": "object"]],
                        "description": "json: the answer is one JSON object (JSON mode); a JSON schema object: one of that schema."]),
            ("options", object([("temperature", number("", RequestRanges.ollamaTemperature, defaultValue: 0.8)), ("top_k", topK("")),
                                ("top_p", number("", RequestRanges.probability, defaultValue: 0.9)),
                                ("num_predict", integer("-1: until the context is full.", minimum: RequestRanges.numPredict.lowerBound, maximum: RequestRanges.numPredict.upperBound)),
                                ("stop", stop()), ("seed", seed),
                                ("repeat_penalty", number("", RequestRanges.repeatPenalty, defaultValue: 1.1))])),
        ], required: ["model"])),
    ]

    private static func errorResponse(_ description: String) -> JSONValue {
        ["description": .string(description), "content": ["application/json": ["schema": ref("Error")]]]
    }

    /// The whole document.
    public static let document: JSONValue = [
        "openapi": "3.0.3",
        "info": ["title": "shimmy", "version": "1.1.0",
                 "description": "Local LLM inference: the shimmy 1.1 API, OpenAI- and Ollama-compatible endpoints. WebSocket: GET /ws/generate; send a GenerateRequest as a text message, receive {\"token\": ...} frames then {\"done\": true}."],
        "servers": [["url": "http://127.0.0.1:11435"]],
        "security": [["bearer": []]],
        "paths": .object([
            ("/", ["get": ["summary": "Liveness (Ollama's root): the line 'shimmy is running'", "tags": ["shimmy"],
                           "responses": .object([("200", ["description": "shimmy is running",
                                                          "content": ["text/plain": ["schema": ["type": "string"]]]])] + errors)]]),
            ("/api/generate", ["post": operation("Generate text (shimmy 1.1; Ollama's form when the body has an Ollama-only field such as options, system or raw, or the User-Agent is an Ollama client's)",
                                                 tag: "shimmy", body: jsonBody(ref("GenerateRequest")), response: generateResponse)]),
            ("/api/models", ["get": operation("List models", tag: "shimmy", response: ok("Models", object([("models", ["type": "array", "items": object([("id", string("")), ("name", string("")), ("description", string(""))])])])))]),
            ("/api/health", ["get": operation("Health", tag: "shimmy", response: ok("Health", object([("status", string("healthy")), ("models_loaded", integer("")), ("memory_usage", string("Resident memory, e.g. 2.1GB"))])), secured: false)]),
            ("/health", ["get": operation("Health (alias)", tag: "shimmy", response: ok("Health", ["type": "object"]), secured: false)]),
            ("/v1/chat/completions", ["post": operation("Chat completion (OpenAI)", tag: "openai", body: jsonBody(ref("ChatCompletionRequest")),
                                                        response: ok("chat.completion, or SSE of chat.completion.chunk", ["type": "object"], streaming: "text/event-stream"))]),
            ("/v1/completions", ["post": operation("Text completion (OpenAI)", tag: "openai", body: jsonBody(ref("CompletionRequest")),
                                                   response: ok("text_completion, or SSE", ["type": "object"], streaming: "text/event-stream"))]),
            ("/v1/embeddings", ["post": operation("Embeddings (OpenAI)", tag: "openai", body: jsonBody(ref("EmbeddingRequest")),
                                                  response: ok("A list of embedding objects", object([
                                                      ("object", string("list")), ("model", string("")),
                                                      ("data", ["type": "array", "items": object([("object", string("embedding")), ("index", integer("")),
                                                                                                 ("embedding", ["oneOf": [["type": "array", "items": ["type": "number"]], ["type": "string"]]])])]),
                                                      ("usage", object([("prompt_tokens", integer("")), ("total_tokens", integer(""))]))])))]),
            ("/v1/models", ["get": operation("List models (OpenAI)", tag: "openai", response: ok("List", object([("object", string("list")), ("data", ["type": "array", "items": ref("OpenAIModel")])])))]),
            ("/v1/models/{id}", ["get": [
                "summary": "One model (OpenAI)", "tags": ["openai"],
                "parameters": [["name": "id", "in": "path", "required": true, "schema": ["type": "string"]]],
                "responses": .object([("200", ok("Model", ref("OpenAIModel")))] + errors)]]),
            ("/api/chat", ["post": operation("Chat (Ollama)", tag: "ollama", body: jsonBody(ref("OllamaChatRequest")),
                                             response: ok("One object, or NDJSON lines when streaming", ["type": "object"], streaming: "application/x-ndjson"))]),
            ("/api/tags", ["get": operation("List models (Ollama)", tag: "ollama", response: ok("Models", ["type": "object"]))]),
            ("/api/ps", ["get": operation("Loaded models (Ollama)", tag: "ollama", response: ok("Models", ["type": "object"]))]),
            ("/api/show", ["post": operation("Model details (Ollama)", tag: "ollama", body: jsonBody(object([("model", string(""))], required: ["model"])),
                                             response: ok("modelfile, parameters, template, details, model_info", ["type": "object"]))]),
            ("/api/embed", ["post": operation("Embeddings (Ollama)", tag: "ollama", body: jsonBody(ref("OllamaEmbedRequest")),
                                              response: ok("Unit-length embeddings, one per input", object([
                                                  ("model", string("")), ("embeddings", ["type": "array", "items": ["type": "array", "items": ["type": "number"]]]),
                                                  ("total_duration", integer("Nanoseconds.")), ("load_duration", integer("Nanoseconds.")),
                                                  ("prompt_eval_count", integer(""))], required: ["model", "embeddings"])))]),
            ("/api/embeddings", ["post": operation("Embedding, raw (Ollama's older route)", tag: "ollama",
                                                   body: jsonBody(object([("model", string("Model name.", minLength: 1)),
                                                                          ("prompt", string("Text; none only loads the model."))] + ollamaIgnored,
                                                                         required: ["model"])),
                                                   response: ok("The vector", object([("embedding", ["type": "array", "items": ["type": "number"]])], required: ["embedding"])))]),
            ("/api/version", ["get": operation("Version (Ollama)", tag: "ollama", response: ok("Version", object([("version", string(""))])))]),
            ("/ws/generate", ["get": ["summary": "WebSocket generation (RFC 6455 upgrade)", "tags": ["shimmy"],
                                      "responses": ["101": ["description": "Switching Protocols"], "400": ["$ref": "#/components/responses/InvalidRequest"],
                                                    "401": ["$ref": "#/components/responses/Unauthorized"],
                                                    "426": ["$ref": "#/components/responses/InvalidRequest"]]]]),
            ("/openapi.json", ["get": operation("This document", tag: "shimmy", response: ok("OpenAPI 3", ["type": "object"]))]),
        ]),
        "components": [
            "schemas": .object(schemas),
            "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "description": "Only when the server runs with --api-key or SHIMMY_API_KEY."]],
            "responses": [
                "InvalidRequest": errorResponse("invalid_request"),
                "TooLarge": errorResponse("invalid_request: a body over 8 MiB (413), a request line and headers over 16 KiB (431)"),
                "MethodNotAllowed": errorResponse("method_not_allowed: the path takes another method (see Allow)"),
                "RequestTimeout": errorResponse("request_timeout: the request did not arrive in full within 30 s"),
                "Unauthorized": errorResponse("unauthorized: missing or wrong API key"),
                "NotFound": errorResponse("model_not_found, or not_found for an unknown path"),
                "ServerError": errorResponse("generation_failed or server_error"),
                "Busy": errorResponse("server_busy: over --parallel plus the queue; see Retry-After"),
            ],
        ],
    ]
}
