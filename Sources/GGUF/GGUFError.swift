/// Why a GGUF file could not be read or written. Each malformed-file class has its own case, naming what
/// is wrong and where (byte offset, key or tensor name).
///
/// ```swift
/// do { _ = try GGUFFile(contentsOf: path) }
/// catch { print(error) }   // "duplicate key 'general.name' in metadata"
/// ```
public enum GGUFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path does not exist.
    case fileNotFound(String)
    /// An operating-system call failed (open, mmap, write, rename); the message says which and why.
    case io(String)
    /// The first four bytes are not `GGUF`.
    case badMagic(found: UInt32)
    /// A version other than 2 or 3.
    case unsupportedVersion(UInt32)
    /// The file ends inside `what`, which starts at `offset`.
    case truncated(what: String, offset: Int)
    /// A string whose length (read at `offset`) exceeds the cap or the bytes left in the file.
    case stringTooLong(length: UInt64, offset: Int)
    /// An array (count read at `offset`) longer than the cap or than the bytes left in the file can hold.
    case arrayTooLong(count: UInt64, key: String, offset: Int)
    /// Arrays nested deeper than `GGUFLimits.maxNestingDepth`.
    case nestingTooDeep(key: String)
    /// A metadata key of zero length, the `index`-th key.
    case emptyKey(index: Int)
    /// A metadata key that appears twice.
    case duplicateKey(String)
    /// A tensor name that appears twice.
    case duplicateTensor(String)
    /// A value type id outside 0...12 for `key` (or one of its array elements).
    case unknownValueType(UInt32, key: String)
    /// A tensor type id that is not a `GGMLType` shimmy supports.
    case unknownTensorType(UInt32, tensor: String)
    /// A string at `offset` that is not valid UTF-8.
    case invalidUTF8(offset: Int)
    /// `general.alignment` (or the writer's alignment) is zero or not a power of two.
    case alignmentNotPowerOfTwo(Int)
    /// `general.alignment` is stored with a type other than `u32`.
    case alignmentWrongType(GGUFValueType)
    /// More than `GGUFLimits.maxDimensions` dimensions.
    case tooManyDimensions(tensor: String, count: UInt32)
    /// A tensor with zero dimensions (a scalar), which shimmy does not use.
    case noDimensions(tensor: String)
    /// Dimension `index` is zero.
    case zeroDimension(tensor: String, index: Int)
    /// Dimension `index` is negative.
    case negativeDimension(tensor: String, index: Int, value: Int64)
    /// The element count or byte count overflows.
    case dimensionOverflow(tensor: String)
    /// The row length (dimension 0) is not a multiple of the type's block size.
    case rowSizeNotMultipleOfBlock(tensor: String, rowLength: Int, blockSize: Int)
    /// A tensor name longer than `GGUFLimits.maxTensorNameLength` bytes.
    case tensorNameTooLong(name: String, length: Int)
    /// The tensor's bytes reach past the end of the file.
    case dataOutsideFile(tensor: String)
    /// Two tensors' byte ranges overlap.
    case overlappingTensors(String, String)
    /// A tensor offset that is not a multiple of the alignment.
    case misalignedOffset(tensor: String, offset: Int, alignment: Int)
    /// A tensor count larger than the file could hold.
    case tooManyTensors(count: UInt64)
    /// A key-value count larger than the file could hold.
    case tooManyKeys(count: UInt64)
    /// Writer: the data given for a tensor is not its byte size.
    case tensorSizeMismatch(tensor: String, expected: Int, actual: Int)
    /// A required metadata key is absent.
    case missingKey(String)
    /// A metadata value has a type the caller cannot use (`expected` says what it wanted).
    case wrongValueType(key: String, expected: String, found: GGUFValueType)
    /// Writer: an array value with an element whose type is not the array's element type.
    case arrayElementMismatch(key: String, expected: GGUFValueType, found: GGUFValueType)

    /// One line: what and where.
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "GGUF file not found: \(path)"
        case .io(let message):
            return "I/O error: \(message)"
        case .badMagic(let found):
            return "bad magic 0x\(String(found, radix: 16)) at offset 0: not a GGUF file (expected 'GGUF')"
        case .unsupportedVersion(let v):
            let hint = v == 1 ? "; version 1 is obsolete, convert the model again"
                : v > 0xFFFF && v & 0xFFFF == 0 ? "; a big-endian file?" : ""
            return "unsupported GGUF version \(v) at offset 4 (supported: 2, 3\(hint))"
        case .truncated(let what, let offset):
            return "file truncated: \(what) at offset \(offset) runs past the end of the file"
        case .stringTooLong(let length, let offset):
            return length > UInt64(GGUFLimits.maxStringLength)
                ? "string at offset \(offset) has length \(length), over the cap of \(GGUFLimits.maxStringLength) bytes"
                : "string at offset \(offset) has length \(length), past the end of the file"
        case .arrayTooLong(let count, let key, let offset):
            return "array '\(key)' at offset \(offset) has \(count) elements, more than the cap "
                + "(\(GGUFLimits.maxArrayCount)) or the rest of the file can hold"
        case .nestingTooDeep(let key):
            return "array '\(key)' nests deeper than \(GGUFLimits.maxNestingDepth) levels"
        case .emptyKey(let index):
            return "metadata key \(index) is empty"
        case .duplicateKey(let key):
            return "duplicate key '\(key)' in metadata"
        case .duplicateTensor(let name):
            return "duplicate tensor name '\(name)'"
        case .unknownValueType(let t, let key):
            return "key '\(key)' has unknown value type \(t)"
        case .unknownTensorType(let t, let tensor):
            let known = GGMLType.allCases.map { "\($0.name)=\($0.rawValue)" }.joined(separator: ", ")
            return "tensor '\(tensor)' has unknown or unsupported ggml type \(t) (supported: \(known))"
        case .invalidUTF8(let offset):
            return "string at offset \(offset) is not valid UTF-8"
        case .alignmentNotPowerOfTwo(let a):
            return "alignment \(a) is not a power of two"
        case .alignmentWrongType(let t):
            return "key 'general.alignment' must be of type u32 but is \(t)"
        case .tooManyDimensions(let tensor, let count):
            return "tensor '\(tensor)' has \(count) dimensions, more than \(GGUFLimits.maxDimensions)"
        case .noDimensions(let tensor):
            return "tensor '\(tensor)' has no dimensions"
        case .zeroDimension(let tensor, let index):
            return "tensor '\(tensor)' dimension \(index) is zero"
        case .negativeDimension(let tensor, let index, let value):
            return "tensor '\(tensor)' dimension \(index) is negative (\(value))"
        case .dimensionOverflow(let tensor):
            return "tensor '\(tensor)' has a shape whose element or byte count overflows"
        case .rowSizeNotMultipleOfBlock(let tensor, let rowLength, let blockSize):
            return "tensor '\(tensor)' row length \(rowLength) is not a multiple of the block size \(blockSize)"
        case .tensorNameTooLong(let name, let length):
            return "tensor name '\(name.prefix(80))' is \(length) bytes, over \(GGUFLimits.maxTensorNameLength)"
        case .dataOutsideFile(let tensor):
            return "tensor '\(tensor)' data lies outside the file"
        case .overlappingTensors(let a, let b):
            return "tensors '\(a)' and '\(b)' have overlapping data"
        case .misalignedOffset(let tensor, let offset, let alignment):
            return "tensor '\(tensor)' offset \(offset) is not a multiple of the alignment \(alignment)"
        case .tooManyTensors(let count):
            return "tensor count \(count) is more than the file can hold"
        case .tooManyKeys(let count):
            return "metadata key count \(count) is more than the file can hold"
        case .tensorSizeMismatch(let tensor, let expected, let actual):
            return "tensor '\(tensor)' needs \(expected) bytes of data but got \(actual)"
        case .missingKey(let key):
            return "required metadata key '\(key)' is missing"
        case .wrongValueType(let key, let expected, let found):
            return "metadata key '\(key)' is \(found), expected \(expected)"
        case .arrayElementMismatch(let key, let expected, let found):
            return "array '\(key)' of \(expected) holds an element of type \(found)"
        }
    }
}

/// The reader's caps, so a crafted file can neither crash the process nor make it allocate without bound.
public enum GGUFLimits {
    /// Longest string (keys, values, tensor names): 64 MiB. Chat templates are ~10 KB, but some converters
    /// embed a whole tokenizer.json (up to ~20 MB) as `tokenizer.huggingface.json`. Memory stays bounded by
    /// the file either way: a string must also fit in the bytes left.
    public static let maxStringLength = 1 << 26
    /// Most elements in one array (token lists hold ~256k).
    public static let maxArrayCount = 1 << 24
    /// Deepest array nesting (an array of arrays is depth 2).
    public static let maxNestingDepth = 4
    /// ggml's GGML_MAX_DIMS.
    public static let maxDimensions = 4
    /// ggml's GGML_MAX_NAME (64) less the terminating zero.
    public static let maxTensorNameLength = 63
    /// The alignment of tensor data when `general.alignment` is absent.
    public static let defaultAlignment = 32
}
