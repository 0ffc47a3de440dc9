/// A ggml tensor element type, with the numeric ids GGUF files use.
///
/// Only the types shimmy reads or writes are listed; any other id in a file is rejected by the reader
/// with `GGUFError.unknownTensorType`.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q8_0 = 8
    case bf16 = 30

    /// Elements per block (1 for the float types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q8_0: return 32
        }
    }

    /// Bytes per block.
    public var typeSize: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18   // f16 d + 16 bytes of nibbles
        case .q4_1: return 20   // f16 d, f16 m + 16 bytes of nibbles
        case .q8_0: return 34   // f16 d + 32 int8
        }
    }

    /// Whether values are stored in quantized blocks.
    public var isQuantized: Bool { blockSize > 1 }

    /// ggml's spelling: `F32`, `Q4_0`, ...
    public var name: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q8_0: return "Q8_0"
        }
    }

    /// Same as `name`.
    public var description: String { name }

    /// Parses ggml's spelling, case-insensitively (`q4_0`, `F16`).
    public init?(name: String) {
        guard let t = GGMLType.allCases.first(where: { $0.name.lowercased() == name.lowercased() }) else { return nil }
        self = t
    }

    /// Bytes for one row of `count` elements, or nil when `count` is not a multiple of the block size
    /// or the size overflows.
    public func rowSize(_ count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: typeSize)
        return overflow ? nil : bytes
    }

    /// The `general.file_type` value (llama_ftype) a file whose weights are all this type carries.
    public var fileType: UInt32 {
        switch self {
        case .f32: return 0
        case .f16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q8_0: return 7
        case .bf16: return 32
        }
    }
}
