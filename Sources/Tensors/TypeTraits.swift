import GGUF

/// The row kernels of one tensor type, so model code converts any type without switching on it.
///
/// ```swift
/// let traits = info.type.traits
/// traits.dequantizeRow(file.tensorData(info).baseAddress!, row, info.rowLength)
/// ```
public struct TypeTraits: Sendable {
    /// The type these kernels read and write.
    public let type: GGMLType
    /// Converts `count` elements (a multiple of `type.blockSize`) from the type's bytes to floats; the SIMD
    /// version, bit-identical to `dequantizeRowReference`.
    public let dequantizeRow: @Sendable (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void
    /// ggml's scalar reference conversion (`to_float`), ported element by element.
    public let dequantizeRowReference: @Sendable (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void
    /// Converts `count` floats (a multiple of `type.blockSize`) to the type's bytes with ggml's reference
    /// algorithm (`from_float_ref`), or nil when the type cannot be produced.
    public let quantizeRow: (@Sendable (UnsafePointer<Float>, UnsafeMutableRawPointer, Int) -> Void)?

    /// Makes a table entry.
    public init(type: GGMLType,
                dequantizeRow: @escaping @Sendable (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void,
                dequantizeRowReference: @escaping @Sendable (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void,
                quantizeRow: (@Sendable (UnsafePointer<Float>, UnsafeMutableRawPointer, Int) -> Void)?) {
        self.type = type
        self.dequantizeRow = dequantizeRow
        self.dequantizeRowReference = dequantizeRowReference
        self.quantizeRow = quantizeRow
    }

    static let f32 = TypeTraits(type: .f32, dequantizeRow: F32Rows.copy, dequantizeRowReference: F32Rows.copy,
                                quantizeRow: F32Rows.store)
    static let f16 = TypeTraits(type: .f16, dequantizeRow: Float16Rows.dequantizeRow,
                                dequantizeRowReference: Float16Rows.dequantizeRowReference,
                                quantizeRow: Float16Rows.quantizeRow)
    static let bf16 = TypeTraits(type: .bf16, dequantizeRow: BF16Rows.dequantizeRow,
                                 dequantizeRowReference: BF16Rows.dequantizeRowReference,
                                 quantizeRow: BF16Rows.quantizeRowReference)
    static let q4_0 = TypeTraits(type: .q4_0, dequantizeRow: BlockQ4_0.dequantizeRow,
                                 dequantizeRowReference: BlockQ4_0.dequantizeRowReference,
                                 quantizeRow: BlockQ4_0.quantizeRowReference)
    static let q4_1 = TypeTraits(type: .q4_1, dequantizeRow: BlockQ4_1.dequantizeRow,
                                 dequantizeRowReference: BlockQ4_1.dequantizeRowReference,
                                 quantizeRow: BlockQ4_1.quantizeRowReference)
    static let q8_0 = TypeTraits(type: .q8_0, dequantizeRow: BlockQ8_0.dequantizeRow,
                                 dequantizeRowReference: BlockQ8_0.dequantizeRowReference,
                                 quantizeRow: BlockQ8_0.quantizeRowReference)
}

extension GGMLType {
    /// This type's row kernels (dequantize, quantize): the one place that switches on a type.
    public var traits: TypeTraits {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .q4_0: return .q4_0
        case .q4_1: return .q4_1
        case .q8_0: return .q8_0
        }
    }
}

/// F32 rows: plain copies.
enum F32Rows {
    /// Copies `count` floats from `src` to `dst`.
    @Sendable static func copy(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        guard count > 0 else { return }
        UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
    }

    /// Copies `count` floats from `src` into the bytes at `dst`.
    @Sendable static func store(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
        guard count > 0 else { return }
        dst.copyMemory(from: src, byteCount: count * 4)
    }
}
