/// The type tag of a GGUF metadata value, with the numeric ids the format uses.
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64

    /// The smallest number of bytes one value of this type takes in a file
    /// (a string is at least its 8-byte length, an array its 4-byte type and 8-byte count).
    public var minimumEncodedSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64, .string: return 8
        case .array: return 12
        }
    }

    /// gguf.cpp's spelling: `u8`, `i32`, `str`, `arr`, ...
    public var description: String {
        switch self {
        case .uint8: return "u8"
        case .int8: return "i8"
        case .uint16: return "u16"
        case .int16: return "i16"
        case .uint32: return "u32"
        case .int32: return "i32"
        case .float32: return "f32"
        case .bool: return "bool"
        case .string: return "str"
        case .array: return "arr"
        case .uint64: return "u64"
        case .int64: return "i64"
        case .float64: return "f64"
        }
    }
}

/// One GGUF metadata value.
///
/// ```swift
/// let file = try GGUFFile(contentsOf: path)
/// let arch = file["general.architecture"]?.stringValue      // "llama"
/// let tokens = file["tokenizer.ggml.tokens"]?.stringArray   // [String]
/// ```
public enum GGUFValue: Sendable, Hashable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32), float32(Float)
    case bool(Bool), string(String), uint64(UInt64), int64(Int64), float64(Double)
    /// Element type and elements; elements may themselves be arrays.
    case array(GGUFValueType, [GGUFValue])

    /// The value's type tag.
    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .float32: return .float32
        case .bool: return .bool
        case .string: return .string
        case .uint64: return .uint64
        case .int64: return .int64
        case .float64: return .float64
        case .array: return .array
        }
    }

    /// Any integer value that fits `Int`; nil for other types.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(exactly: v)
        default: return nil
        }
    }

    /// A float value, or any integer converted to `Double`; nil for other types.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        case .uint64(let v): return Double(v)
        case .int64(let v): return Double(v)
        default: return intValue.map(Double.init)
        }
    }

    /// `doubleValue` as `Float`.
    public var floatValue: Float? {
        if case .float32(let v) = self { return v }
        return doubleValue.map(Float.init)
    }

    /// The string of a `.string` value.
    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    /// The flag of a `.bool` value.
    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    /// The elements of an `.array` value.
    public var arrayValue: [GGUFValue]? {
        if case .array(_, let v) = self { return v }
        return nil
    }

    /// The elements of an array of strings; nil when it is not an array or an element is not a string.
    public var stringArray: [String]? {
        guard case .array(let t, let elements) = self, t == .string else { return nil }
        var out: [String] = []
        out.reserveCapacity(elements.count)
        for e in elements {
            guard case .string(let s) = e else { return nil }
            out.append(s)
        }
        return out
    }

    /// The elements of an array of numbers as `Float`; nil when it is not an array or an element is not a number.
    public var floatArray: [Float]? {
        guard case .array(_, let elements) = self else { return nil }
        var out: [Float] = []
        out.reserveCapacity(elements.count)
        for e in elements {
            guard let f = e.floatValue else { return nil }
            out.append(f)
        }
        return out
    }

    /// The elements of an array of integers as `Int`; nil when it is not an array or an element is not an
    /// integer that fits `Int`.
    public var intArray: [Int]? {
        guard case .array(_, let elements) = self else { return nil }
        var out: [Int] = []
        out.reserveCapacity(elements.count)
        for e in elements {
            guard let i = e.intValue else { return nil }
            out.append(i)
        }
        return out
    }
}

extension GGUFValue: CustomStringConvertible {
    /// A short rendering; arrays show their type, count and first elements.
    public var description: String {
        switch self {
        case .uint8(let v): return "\(v)"
        case .int8(let v): return "\(v)"
        case .uint16(let v): return "\(v)"
        case .int16(let v): return "\(v)"
        case .uint32(let v): return "\(v)"
        case .int32(let v): return "\(v)"
        case .float32(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        case .string(let v): return "\"\(v)\""
        case .uint64(let v): return "\(v)"
        case .int64(let v): return "\(v)"
        case .float64(let v): return "\(v)"
        case .array(let t, let elements):
            let head = elements.prefix(4).map(\.description).joined(separator: ", ")
            return "[\(t) x \(elements.count)]" + (elements.isEmpty ? "" : " [\(head)\(elements.count > 4 ? ", ..." : "")]")
        }
    }
}
