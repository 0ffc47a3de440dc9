/// Builds a GGUF file: metadata in insertion order, tensor infos, then each tensor's data padded to the
/// alignment, as gguf.cpp writes it.
///
/// ```swift
/// var writer = GGUFWriter()
/// writer.set("general.architecture", .string("llama"))
/// try writer.addTensor(name: "output_norm.weight", type: .f32, dimensions: [576], data: bytes)
/// try writer.write(to: "out.gguf")        // via "out.gguf.partial-…", then rename
/// ```
///
/// The alignment is `general.alignment` when that key is set (it must be a `u32`), else the `alignment`
/// given to `init`; a non-default alignment is written as `general.alignment` so readers find it.
///
/// The writer enforces the format (shapes, types, alignment, unique names, array element types); the
/// reader's caps in `GGUFLimits` (string length, array count, nesting depth) are the reader's policy and are
/// not checked here, so tests can write files that exceed them.
public struct GGUFWriter {
    /// Where a tensor's bytes come from.
    enum Source {
        case bytes([UInt8])
        case producer((UnsafeMutableRawBufferPointer) throws -> Void)
    }

    struct PendingTensor {
        let name: String
        let type: GGMLType
        let dimensions: [Int]
        let byteCount: Int
        let source: Source
    }

    /// The alignment given to `init`.
    public let alignment: Int
    /// The version written (2 or 3).
    public let version: UInt32
    private(set) var keys: [String] = []
    private(set) var values: [String: GGUFValue] = [:]
    private(set) var pending: [PendingTensor] = []
    private var tensorNames: Set<String> = []

    /// A writer for `version` (2 or 3) whose tensor data is aligned to `alignment` bytes (a power of two).
    /// Invalid values make `serialized()` and `write(to:)` throw.
    public init(alignment: Int = GGUFLimits.defaultAlignment, version: UInt32 = 3) {
        self.alignment = alignment
        self.version = version
    }

    /// Metadata keys in the order they will be written.
    public var metadataKeys: [String] { keys }

    /// Names of the tensors added so far, in order.
    public var tensorNamesInOrder: [String] { pending.map(\.name) }

    /// Sets a metadata value. A new key goes last; replacing a key keeps its position.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if values.updateValue(value, forKey: key) == nil { keys.append(key) }
    }

    /// Removes a metadata key, if present.
    public mutating func remove(_ key: String) {
        guard values.removeValue(forKey: key) != nil else { return }
        keys.removeAll { $0 == key }
    }

    /// The value set for `key`.
    public subscript(key: String) -> GGUFValue? { values[key] }

    /// Adds a tensor with its bytes. Throws when the shape is invalid, the name is taken or too long, or
    /// `data.count` is not the tensor's byte size.
    public mutating func addTensor(name: String, type: GGMLType, dimensions: [Int], data: [UInt8]) throws(GGUFError) {
        let byteCount = try Self.validate(name: name, type: type, dimensions: dimensions, taken: tensorNames)
        guard data.count == byteCount else {
            throw .tensorSizeMismatch(tensor: name, expected: byteCount, actual: data.count)
        }
        tensorNames.insert(name)
        pending.append(PendingTensor(name: name, type: type, dimensions: dimensions, byteCount: byteCount,
                                     source: .bytes(data)))
    }

    /// Adds a tensor whose bytes `producer` writes at write time into a zeroed buffer of exactly the
    /// tensor's byte size (streaming: only one tensor's bytes are in memory at once during `write(to:)`).
    public mutating func addTensor(name: String, type: GGMLType, dimensions: [Int],
                                   producer: @escaping (UnsafeMutableRawBufferPointer) throws -> Void) throws(GGUFError) {
        let byteCount = try Self.validate(name: name, type: type, dimensions: dimensions, taken: tensorNames)
        tensorNames.insert(name)
        pending.append(PendingTensor(name: name, type: type, dimensions: dimensions, byteCount: byteCount,
                                     source: .producer(producer)))
    }

    /// Adds an F32 tensor from `Float` values (stored little-endian), e.g. a norm weight.
    public mutating func addTensor(name: String, dimensions: [Int], floats: [Float]) throws(GGUFError) {
        var data: [UInt8] = []
        data.reserveCapacity(floats.count * 4)
        for f in floats { withUnsafeBytes(of: f.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        try addTensor(name: name, type: .f32, dimensions: dimensions, data: data)
    }

    /// Checks a tensor the way the reader will and returns its byte count.
    static func validate(name: String, type: GGMLType, dimensions: [Int], taken: Set<String>) throws(GGUFError) -> Int {
        let nameLength = name.utf8.count
        guard nameLength <= GGUFLimits.maxTensorNameLength else {
            throw .tensorNameTooLong(name: name, length: nameLength)
        }
        guard !taken.contains(name) else { throw .duplicateTensor(name) }
        guard !dimensions.isEmpty else { throw .noDimensions(tensor: name) }
        guard dimensions.count <= GGUFLimits.maxDimensions else {
            throw .tooManyDimensions(tensor: name, count: UInt32(dimensions.count))
        }
        var elements = 1
        for (j, d) in dimensions.enumerated() {
            guard d >= 0 else { throw .negativeDimension(tensor: name, index: j, value: Int64(d)) }
            guard d > 0 else { throw .zeroDimension(tensor: name, index: j) }
            let (p, o) = elements.multipliedReportingOverflow(by: d)
            guard !o else { throw .dimensionOverflow(tensor: name) }
            elements = p
        }
        guard dimensions[0] % type.blockSize == 0 else {
            throw .rowSizeNotMultipleOfBlock(tensor: name, rowLength: dimensions[0], blockSize: type.blockSize)
        }
        let (bytes, o) = (elements / type.blockSize).multipliedReportingOverflow(by: type.typeSize)
        guard !o else { throw .dimensionOverflow(tensor: name) }
        return bytes
    }
}
