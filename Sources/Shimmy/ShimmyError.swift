import Foundation

/// The one error type that crosses module boundaries: the server, the CLI and Swift programs see this.
///
/// `code` is stable and maps one to one onto the API's error codes; new codes may be added.
public struct ShimmyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable error code, spelled as in the HTTP API.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The requested model is not available (HTTP 404).
        public static let modelNotFound = Code(rawValue: "model_not_found")
        /// The request is malformed or out of range (HTTP 400).
        public static let invalidRequest = Code(rawValue: "invalid_request")
        /// Generation failed after it started (HTTP 500).
        public static let generationFailed = Code(rawValue: "generation_failed")
        /// Anything else, e.g. a model file that cannot be loaded (HTTP 500).
        public static let serverError = Code(rawValue: "server_error")
        public var description: String { rawValue }
    }

    public var code: Code
    /// What happened, in one sentence.
    public var message: String
    /// Specifics: which model, which field, which byte.
    public var details: String?

    public init(_ code: Code, _ message: String, details: String? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String {
        details.map { "\(message): \($0)" } ?? message
    }
}

/// `localizedDescription` (what UI code shows) reads as `description`, not Foundation's generic sentence.
extension ShimmyError: LocalizedError {
    public var errorDescription: String? { description }
}
