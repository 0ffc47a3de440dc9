/// Appends little-endian GGUF fields to a growing byte array (the writer's header encoder).
struct ByteSink {
    var bytes: [UInt8] = []

    var count: Int { bytes.count }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ string: String) {
        let utf8 = string.utf8
        append(UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// Appends zeros up to the next multiple of `alignment`.
    mutating func pad(to alignment: Int) {
        let rem = bytes.count % alignment
        if rem != 0 { bytes.append(contentsOf: repeatElement(0, count: alignment - rem)) }
    }

    /// Appends a value's payload (no type tag). Throws when an array holds an element of another type.
    mutating func append(value: GGUFValue, key: String) throws(GGUFError) {
        switch value {
        case .uint8(let v): append(v)
        case .int8(let v): append(v)
        case .uint16(let v): append(v)
        case .int16(let v): append(v)
        case .uint32(let v): append(v)
        case .int32(let v): append(v)
        case .float32(let v): append(v.bitPattern)
        case .bool(let v): append(UInt8(v ? 1 : 0))
        case .string(let v): append(v)
        case .uint64(let v): append(v)
        case .int64(let v): append(v)
        case .float64(let v): append(v.bitPattern)
        case .array(let type, let elements):
            append(type.rawValue)
            append(UInt64(elements.count))
            for e in elements {
                guard e.type == type else { throw .arrayElementMismatch(key: key, expected: type, found: e.type) }
                try append(value: e, key: key)
            }
        }
    }
}
