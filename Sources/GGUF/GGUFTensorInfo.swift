/// Where one tensor lives in a GGUF file and what shape and type it has.
public struct GGUFTensorInfo: Sendable, Hashable {
    /// The tensor name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// ggml order, innermost first: `dimensions[0]` is the row length (ne[0]).
    public let dimensions: [Int]
    /// The element type.
    public let type: GGMLType
    /// Byte offset relative to the start of the data section.
    public let offset: Int

    /// Makes an info; the reader only makes ones whose shape it has validated.
    public init(name: String, dimensions: [Int], type: GGMLType, offset: Int) {
        self.name = name
        self.dimensions = dimensions
        self.type = type
        self.offset = offset
    }

    /// The number of elements (product of the dimensions; 0 if it overflows).
    public var elementCount: Int {
        var n = 1
        for d in dimensions {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return 0 }
            n = p
        }
        return n
    }

    /// Bytes of data: `rowCount * type.rowSize(rowLength)` (0 if the shape is invalid).
    public var byteCount: Int {
        guard let row = type.rowSize(rowLength) else { return 0 }
        let (bytes, o) = rowCount.multipliedReportingOverflow(by: row)
        return o ? 0 : bytes
    }

    /// Elements per row: `dimensions[0]` (0 when there are no dimensions).
    public var rowLength: Int { dimensions.first ?? 0 }

    /// Number of rows: the product of `dimensions[1...]` (1 for a vector).
    public var rowCount: Int {
        var n = 1
        for d in dimensions.dropFirst() {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return 0 }
            n = p
        }
        return n
    }
}

extension GGUFTensorInfo: CustomStringConvertible {
    /// `name type [d0, d1] @offset`.
    public var description: String { "\(name) \(type) \(dimensions) @\(offset)" }
}
