/// Typed metadata reads that fail with the key's name: required keys throw `.missingKey`, and a key that
/// is present with an unusable type throws `.wrongValueType` even when a default is given.
///
/// ```swift
/// let layers = try file.int("llama.block_count")
/// let eps = try file.float("llama.attention.layer_norm_rms_epsilon", default: 1e-5)
/// ```
extension GGUFFile {
    /// An integer value (any integer type that fits `Int`).
    public func int(_ key: String) throws(GGUFError) -> Int {
        try typed(key, "an integer") { $0.intValue }
    }

    /// An integer value, or `defaultValue` when the key is absent.
    public func int(_ key: String, default defaultValue: Int) throws(GGUFError) -> Int {
        metadata[key] == nil ? defaultValue : try int(key)
    }

    /// A number as `Float` (float or integer types).
    public func float(_ key: String) throws(GGUFError) -> Float {
        try typed(key, "a number") { $0.floatValue }
    }

    /// A number as `Float`, or `defaultValue` when the key is absent.
    public func float(_ key: String, default defaultValue: Float) throws(GGUFError) -> Float {
        metadata[key] == nil ? defaultValue : try float(key)
    }

    /// A string value.
    public func string(_ key: String) throws(GGUFError) -> String {
        try typed(key, "a string") { $0.stringValue }
    }

    /// A string value, or `defaultValue` when the key is absent.
    public func string(_ key: String, default defaultValue: String) throws(GGUFError) -> String {
        metadata[key] == nil ? defaultValue : try string(key)
    }

    /// A bool value, or `defaultValue` when the key is absent.
    public func bool(_ key: String, default defaultValue: Bool) throws(GGUFError) -> Bool {
        metadata[key] == nil ? defaultValue : try typed(key, "a bool") { $0.boolValue }
    }

    /// An array of strings.
    public func stringArray(_ key: String) throws(GGUFError) -> [String] {
        try typed(key, "an array of strings") { $0.stringArray }
    }

    /// An array of numbers as `Float`.
    public func floatArray(_ key: String) throws(GGUFError) -> [Float] {
        try typed(key, "an array of numbers") { $0.floatArray }
    }

    /// An array of integers as `Int`.
    public func intArray(_ key: String) throws(GGUFError) -> [Int] {
        try typed(key, "an array of integers") { $0.intArray }
    }

    private func typed<T>(_ key: String, _ expected: String, _ convert: (GGUFValue) -> T?) throws(GGUFError) -> T {
        guard let value = metadata[key] else { throw .missingKey(key) }
        guard let converted = convert(value) else {
            throw .wrongValueType(key: key, expected: expected, found: value.type)
        }
        return converted
    }
}
