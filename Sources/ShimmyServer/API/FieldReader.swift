import Shimmy

/// Typed access to a JSON request body's fields. A field that is absent or `null` reads as nil; a field of the
/// wrong type or out of range throws invalid_request naming the field.
public struct FieldReader: Sendable {
    public let object: JSONValue
    /// Prefix for nested field names in errors (`options.`).
    public let prefix: String

    /// Parses a body that must be a JSON object.
    public static func parse(_ body: [UInt8]) throws -> FieldReader {
        guard !body.isEmpty else { throw APIError.invalidRequest("Request body is empty", details: "expected a JSON object") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw APIError.invalidRequest("Request body is not valid JSON", details: error.description)
        }
        guard case .object = value else {
            throw APIError.invalidRequest("Request body must be a JSON object", details: "got \(value.typeName)")
        }
        return FieldReader(object: value, prefix: "")
    }

    public init(object: JSONValue, prefix: String) {
        self.object = object
        self.prefix = prefix
    }

    func present(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func wrongType(_ key: String, _ expected: String, _ got: JSONValue) -> APIError {
        .invalidRequest("Field '\(prefix)\(key)' has the wrong type", details: "'\(prefix)\(key)' must be \(expected), got \(got.typeName)", param: prefix + key)
    }

    /// Throws invalid_request when `key` asks for something shimmy cannot do: true, a non-zero number, a non-empty
    /// string, array or object, unless `allowed` accepts the value (`{"type": "text"}` for `response_format`).
    /// Absent, null, false, 0 and empty values pass, as clients send them by default.
    public func refuse(_ key: String, _ reason: String, allowing allowed: (JSONValue) -> Bool = { _ in false }) throws {
        guard let value = present(key), !allowed(value) else { return }
        let asks: Bool
        switch value {
        case .null: asks = false
        case .bool(let b): asks = b
        case .integer(let i): asks = i != 0
        case .double(let d): asks = d != 0
        case .string(let s): asks = !s.isEmpty
        case .array(let items): asks = !items.isEmpty
        case .object(let pairs): asks = !pairs.isEmpty
        }
        if asks { throw APIError.invalidRequest("Field '\(prefix)\(key)' is not supported", details: reason, param: prefix + key) }
    }

    /// A string field.
    /// A string field; `required` refuses a missing one, `nonEmpty` an empty one too (a required name).
    public func string(_ key: String, required: Bool = false, nonEmpty: Bool = false) throws -> String? {
        guard let value = present(key) else {
            if required { throw APIError.invalidRequest("Missing field '\(prefix)\(key)'", details: "'\(prefix)\(key)' is required", param: prefix + key) }
            return nil
        }
        guard let s = value.stringValue else { throw wrongType(key, "a string", value) }
        if nonEmpty && s.isEmpty {
            throw APIError.invalidRequest("Field '\(prefix)\(key)' is empty", details: "'\(prefix)\(key)' is required", param: prefix + key)
        }
        return s
    }

    /// A boolean field.
    public func bool(_ key: String) throws -> Bool? {
        guard let value = present(key) else { return nil }
        guard let b = value.boolValue else { throw wrongType(key, "a boolean", value) }
        return b
    }

    /// An integer field within `range`.
    public func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = present(key) else { return nil }
        guard let i = value.integerValue else { throw wrongType(key, "an integer", value) }
        guard i >= Int64(range.lowerBound), i <= Int64(range.upperBound) else {
            throw APIError.invalidRequest("Field '\(prefix)\(key)' is out of range",
                                          details: "'\(prefix)\(key)' must be in \(range.lowerBound)...\(range.upperBound), got \(i)", param: prefix + key)
        }
        return Int(i)
    }

    /// A number field within `range`.
    public func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let value = present(key) else { return nil }
        guard let d = value.doubleValue else { throw wrongType(key, "a number", value) }
        guard range.contains(d) else {
            throw APIError.invalidRequest("Field '\(prefix)\(key)' is out of range",
                                          details: "'\(prefix)\(key)' must be in \(range.lowerBound)...\(range.upperBound), got \(d)", param: prefix + key)
        }
        return d
    }

    /// A string or an array of strings (OpenAI `stop`).
    public func stringList(_ key: String, maxCount: Int = 16) throws -> [String]? {
        guard let value = present(key) else { return nil }
        if let s = value.stringValue { return [s] }
        guard let items = value.arrayValue else { throw wrongType(key, "a string or an array of strings", value) }
        guard items.count <= maxCount else {
            throw APIError.invalidRequest("Field '\(prefix)\(key)' has too many entries", details: "at most \(maxCount)", param: prefix + key)
        }
        return try items.map { item in
            guard let s = item.stringValue else { throw wrongType(key, "a string or an array of strings", value) }
            return s
        }
    }

    /// A nested object field, read with the same rules.
    public func nested(_ key: String) throws -> FieldReader? {
        guard let value = present(key) else { return nil }
        guard case .object = value else { throw wrongType(key, "an object", value) }
        return FieldReader(object: value, prefix: prefix + key + ".")
    }

    /// An array field.
    public func array(_ key: String, required: Bool = false) throws -> [JSONValue]? {
        guard let value = present(key) else {
            if required { throw APIError.invalidRequest("Missing field '\(prefix)\(key)'", details: "'\(prefix)\(key)' is required", param: prefix + key) }
            return nil
        }
        guard let items = value.arrayValue else { throw wrongType(key, "an array", value) }
        return items
    }
}
