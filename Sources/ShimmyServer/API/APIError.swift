import Shimmy

/// A failure as the API sends it: status, `{"error": {"code", "message", "details"}}`, extra headers.
public struct APIError: Error, Sendable {
    public var status: Int
    public var code: String
    public var message: String
    public var details: String?
    public var headers: [(name: String, value: String)]
    /// The request field the error is about (`temperature`, `messages[0].content`): OpenAI's `param`.
    public var param: String?

    public init(status: Int, code: String, message: String, details: String? = nil,
                headers: [(name: String, value: String)] = [], param: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
        self.param = param
    }

    /// The HTTP status of a `ShimmyError` code: model_not_found 404, invalid_request 400, others 500.
    public static func status(of code: ShimmyError.Code) -> Int {
        switch code {
        case .modelNotFound: return 404
        case .invalidRequest: return 400
        default: return 500
        }
    }

    /// Converts any error: a `ShimmyError` keeps its code, anything else becomes server_error.
    public init(_ error: Error) {
        if let api = error as? APIError {
            self = api
        } else if let shimmy = error as? ShimmyError, shimmy.code == .modelNotFound {
            // the API reference's wording: the fixed message, the engine's sentence ("Model 'x' is not available")
            // as the details
            self.init(status: 404, code: shimmy.code.rawValue, message: APIError.modelNotFoundMessage,
                      details: shimmy.message == APIError.modelNotFoundMessage ? shimmy.details : shimmy.message)
        } else if let shimmy = error as? ShimmyError {
            self.init(status: APIError.status(of: shimmy.code), code: shimmy.code.rawValue, message: shimmy.message,
                      details: shimmy.details)
        } else {
            self.init(status: 500, code: ShimmyError.Code.serverError.rawValue, message: "Internal server error",
                      details: String(describing: error))
        }
    }

    /// model_not_found's message, as the API reference spells it.
    public static let modelNotFoundMessage = "The specified model was not found"

    /// An error from a generation that already started: generation_failed unless it carries its own code.
    public static func generation(_ error: Error) -> APIError {
        if error is ShimmyError || error is APIError { return APIError(error) }
        return APIError(status: 500, code: ShimmyError.Code.generationFailed.rawValue, message: "Text generation failed",
                        details: String(describing: error))
    }

    /// The 400 for a prompt or an input longer than the context, worded as OpenAI words it ("maximum context
    /// length"), which clients that trim history look for.
    static func contextExceeded(_ subject: String, contextLength: Int, details: String, param: String? = nil) -> APIError {
        .invalidRequest("\(subject) is too long for the model's maximum context length of \(contextLength) tokens",
                        details: details, param: param)
    }

    /// An invalid_request (400), about the field `param` when it names one.
    public static func invalidRequest(_ message: String, details: String? = nil, param: String? = nil) -> APIError {
        APIError(status: 400, code: ShimmyError.Code.invalidRequest.rawValue, message: message, details: details, param: param)
    }

    /// The error object.
    public var json: JSONValue {
        ["error": ["code": .string(code), "message": .string(message), "details": .optionalString(details)]]
    }

    /// The whole response.
    public var response: HTTPResponse { .json(json, status: status, headers: headers) }

    /// The error object with OpenAI's `type` and `param` beside shimmy's fields, for the `/v1` routes (OpenAI's
    /// clients read `type` and `param`).
    public var openAIJSON: JSONValue {
        let type: String
        switch status {
        case 401: type = "authentication_error"
        case 500...: type = "server_error"
        default: type = "invalid_request_error"
        }
        return ["error": ["code": .string(code), "message": .string(message), "details": .optionalString(details),
                          "type": .string(type), "param": .optionalString(param)]]
    }

    /// `response` with `openAIJSON`.
    public var openAIResponse: HTTPResponse { .json(openAIJSON, status: status, headers: headers) }

    /// A malformed HTTP request: 400, 413, 431, 501 or 505 with invalid_request.
    static func parse(_ error: HTTPParseError) -> APIError {
        APIError(status: error.status, code: ShimmyError.Code.invalidRequest.rawValue,
                 message: error.status == 413 || error.status == 431 ? "Request too large" : "Malformed HTTP request",
                 details: error.description)
    }

    /// No route for the path (404, code not_found).
    static func routeNotFound(_ method: String, _ path: String) -> APIError {
        APIError(status: 404, code: "not_found", message: "No such endpoint", details: "\(method) \(path)")
    }

    /// The path exists but not for this method (405, code method_not_allowed).
    static func methodNotAllowed(_ method: String, _ path: String, allowed: [String]) -> APIError {
        APIError(status: 405, code: "method_not_allowed", message: "Method not allowed",
                 details: "\(method) \(path); allowed: \(allowed.joined(separator: ", "))",
                 headers: [("Allow", allowed.joined(separator: ", "))])
    }

    /// Over capacity (503, code server_busy, Retry-After).
    static func busy(retryAfter: Int, parallel: Int, queued: Int) -> APIError {
        APIError(status: 503, code: "server_busy", message: "Server is at capacity; retry later",
                 details: "\(parallel) generations running and \(queued) queued",
                 headers: [("Retry-After", String(retryAfter))])
    }
}
