/// What the parser found; `GGUFFile` stores it.
struct ParsedGGUF {
    var version: UInt32 = 0
    var alignment = GGUFLimits.defaultAlignment
    var dataOffset = 0
    var keys: [String] = []
    var metadata: [String: GGUFValue] = [:]
    var tensors: [GGUFTensorInfo] = []
    var tensorIndex: [String: Int] = [:]
}

/// Parses and validates a GGUF buffer. Total: every read is bounds-checked, all size arithmetic is
/// overflow-checked, and allocations are bounded by the caps in `GGUFLimits` and by the bytes left.
struct GGUFParser {
    /// "GGUF" read as a little-endian u32.
    static let magic: UInt32 = 0x4655_4747
    /// Smallest key-value pair: length, one key byte, type, one value byte.
    static let minimumKeyValueSize = 8 + 1 + 4 + 1
    /// Smallest tensor info: name length, dimension count, one dimension, type, offset.
    static let minimumTensorInfoSize = 8 + 4 + 8 + 4 + 8

    var reader: ByteReader
    var result = ParsedGGUF()

    init(bytes: UnsafeRawBufferPointer) {
        reader = ByteReader(bytes)
    }

    mutating func parse() throws(GGUFError) -> ParsedGGUF {
        let magic = try reader.read(UInt32.self, "magic")
        guard magic == Self.magic else { throw .badMagic(found: magic) }
        let version = try reader.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }
        result.version = version
        let tensorCount = try reader.read(UInt64.self, "tensor count")
        let keyCount = try reader.read(UInt64.self, "key-value count")
        try parseMetadata(count: keyCount)
        try readAlignment()
        try parseTensorInfos(count: tensorCount)
        try placeData()
        return result
    }

    // MARK: metadata

    mutating func parseMetadata(count: UInt64) throws(GGUFError) {
        guard count <= UInt64(reader.remaining / Self.minimumKeyValueSize) else { throw .tooManyKeys(count: count) }
        let n = Int(count)
        result.keys.reserveCapacity(min(n, 1 << 12))
        result.metadata.reserveCapacity(min(n, 1 << 12))
        for i in 0..<n {
            let key = try reader.readString("key \(i)")
            guard !key.isEmpty else { throw .emptyKey(index: i) }
            guard result.metadata[key] == nil else { throw .duplicateKey(key) }
            let rawType = try reader.read(UInt32.self, "type of key '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else { throw .unknownValueType(rawType, key: key) }
            let value = try readValue(type, key: key, depth: 0)
            result.keys.append(key)
            result.metadata[key] = value
        }
    }

    /// Reads one value of `type`; `depth` is how many arrays enclose it.
    mutating func readValue(_ type: GGUFValueType, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try reader.read(UInt8.self, "value of '\(key)'"))
        case .int8: return .int8(try reader.read(Int8.self, "value of '\(key)'"))
        case .uint16: return .uint16(try reader.read(UInt16.self, "value of '\(key)'"))
        case .int16: return .int16(try reader.read(Int16.self, "value of '\(key)'"))
        case .uint32: return .uint32(try reader.read(UInt32.self, "value of '\(key)'"))
        case .int32: return .int32(try reader.read(Int32.self, "value of '\(key)'"))
        case .float32: return .float32(Float(bitPattern: try reader.read(UInt32.self, "value of '\(key)'")))
        case .bool: return .bool(try reader.read(UInt8.self, "value of '\(key)'") != 0)
        case .string: return .string(try reader.readString("value of '\(key)'"))
        case .uint64: return .uint64(try reader.read(UInt64.self, "value of '\(key)'"))
        case .int64: return .int64(try reader.read(Int64.self, "value of '\(key)'"))
        case .float64: return .float64(Double(bitPattern: try reader.read(UInt64.self, "value of '\(key)'")))
        case .array: return try readArray(key: key, depth: depth + 1)
        }
    }

    /// Reads an array's element type, count and elements; `depth` is 1 for a top-level array.
    mutating func readArray(key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        guard depth <= GGUFLimits.maxNestingDepth else { throw .nestingTooDeep(key: key) }
        let rawType = try reader.read(UInt32.self, "array type of '\(key)'")
        guard let elementType = GGUFValueType(rawValue: rawType) else { throw .unknownValueType(rawType, key: key) }
        let countOffset = reader.offset
        let count = try reader.read(UInt64.self, "array count of '\(key)'")
        guard count <= UInt64(GGUFLimits.maxArrayCount),
              count <= UInt64(reader.remaining / elementType.minimumEncodedSize) else {
            throw .arrayTooLong(count: count, key: key, offset: countOffset)
        }
        let n = Int(count)
        if elementType == .array, n > 0, depth >= GGUFLimits.maxNestingDepth { throw .nestingTooDeep(key: key) }
        var elements: [GGUFValue] = []
        // Reserve at most 64k up front: a declared count only allocates as its elements are really read.
        elements.reserveCapacity(min(n, 1 << 16))
        do throws(GGUFError) {
            switch elementType {
            case .string:
                for _ in 0..<n { elements.append(.string(try reader.readString())) }
            case .int32:
                for _ in 0..<n { elements.append(.int32(try reader.read(Int32.self))) }
            case .float32:
                for _ in 0..<n { elements.append(.float32(Float(bitPattern: try reader.read(UInt32.self)))) }
            default:
                for _ in 0..<n { elements.append(try readValue(elementType, key: key, depth: depth)) }
            }
        } catch {
            throw error.naming("element \(elements.count) of '\(key)'")
        }
        return .array(elementType, elements)
    }

    mutating func readAlignment() throws(GGUFError) {
        guard let value = result.metadata["general.alignment"] else { return }
        guard case .uint32(let a) = value else { throw .alignmentWrongType(value.type) }
        let alignment = Int(a)
        guard alignment > 0, alignment & (alignment - 1) == 0 else { throw .alignmentNotPowerOfTwo(alignment) }
        result.alignment = alignment
    }

    // MARK: tensors

    mutating func parseTensorInfos(count: UInt64) throws(GGUFError) {
        guard count <= UInt64(reader.remaining / Self.minimumTensorInfoSize) else {
            throw .tooManyTensors(count: count)
        }
        let n = Int(count)
        result.tensors.reserveCapacity(min(n, 1 << 16))
        result.tensorIndex.reserveCapacity(min(n, 1 << 16))
        for i in 0..<n {
            let info = try readTensorInfo(index: i)
            guard result.tensorIndex[info.name] == nil else { throw .duplicateTensor(info.name) }
            result.tensorIndex[info.name] = result.tensors.count
            result.tensors.append(info)
        }
    }

    mutating func readTensorInfo(index: Int) throws(GGUFError) -> GGUFTensorInfo {
        let name = try reader.readString("name of tensor \(index)")
        let nameLength = name.utf8.count
        guard nameLength <= GGUFLimits.maxTensorNameLength else {
            throw .tensorNameTooLong(name: name, length: nameLength)
        }
        let dimensionCount = try reader.read(UInt32.self, "dimension count of tensor '\(name)'")
        guard dimensionCount <= UInt32(GGUFLimits.maxDimensions) else {
            throw .tooManyDimensions(tensor: name, count: dimensionCount)
        }
        guard dimensionCount > 0 else { throw .noDimensions(tensor: name) }
        var raw: [Int64] = []
        raw.reserveCapacity(Int(dimensionCount))
        for j in 0..<Int(dimensionCount) {
            raw.append(try reader.read(Int64.self, "dimension \(j) of tensor '\(name)'"))
        }
        let rawType = try reader.read(UInt32.self, "type of tensor '\(name)'")
        let rawOffset = try reader.read(UInt64.self, "offset of tensor '\(name)'")

        var dimensions: [Int] = []
        dimensions.reserveCapacity(raw.count)
        for (j, d) in raw.enumerated() {
            guard d >= 0 else { throw .negativeDimension(tensor: name, index: j, value: d) }
            guard d > 0 else { throw .zeroDimension(tensor: name, index: j) }
            dimensions.append(Int(d))
        }
        var elements = 1
        for d in dimensions {
            let (p, o) = elements.multipliedReportingOverflow(by: d)
            guard !o else { throw .dimensionOverflow(tensor: name) }
            elements = p
        }
        guard let type = GGMLType(rawValue: rawType) else { throw .unknownTensorType(rawType, tensor: name) }
        guard dimensions[0] % type.blockSize == 0 else {
            throw .rowSizeNotMultipleOfBlock(tensor: name, rowLength: dimensions[0], blockSize: type.blockSize)
        }
        let (bytes, o) = (elements / type.blockSize).multipliedReportingOverflow(by: type.typeSize)
        guard !o, bytes <= Int.max - result.alignment else { throw .dimensionOverflow(tensor: name) }
        guard let offset = Int(exactly: rawOffset) else { throw .dataOutsideFile(tensor: name) }
        guard offset % result.alignment == 0 else {
            throw .misalignedOffset(tensor: name, offset: offset, alignment: result.alignment)
        }
        return GGUFTensorInfo(name: name, dimensions: dimensions, type: type, offset: offset)
    }

    /// Finds the data section and checks every tensor's bytes lie inside the file, apart from each other.
    mutating func placeData() throws(GGUFError) {
        let end = reader.offset
        let alignment = result.alignment
        let padded = (end + alignment - 1) / alignment * alignment    // end <= file size, cannot overflow
        guard !result.tensors.isEmpty else {
            result.dataOffset = min(padded, reader.bytes.count)
            return
        }
        guard padded <= reader.bytes.count else { throw .truncated(what: "padding before tensor data", offset: end) }
        result.dataOffset = padded
        let fileSize = reader.bytes.count
        var ranges: [(start: Int, end: Int, index: Int)] = []
        ranges.reserveCapacity(result.tensors.count)
        for (i, t) in result.tensors.enumerated() {
            let (start, o1) = padded.addingReportingOverflow(t.offset)
            let (stop, o2) = start.addingReportingOverflow(t.byteCount)
            guard !o1, !o2, stop <= fileSize else { throw .dataOutsideFile(tensor: t.name) }
            ranges.append((start, stop, i))
        }
        ranges.sort { $0.start != $1.start ? $0.start < $1.start : $0.index < $1.index }
        for k in ranges.indices.dropFirst() where ranges[k - 1].end > ranges[k].start {
            let a = result.tensors[ranges[k - 1].index].name, b = result.tensors[ranges[k].index].name
            throw .overlappingTensors(a, b)
        }
    }
}
