/// A parsed, validated GGUF file (versions 2 and 3) whose tensor bytes stay in place in a read-only mapping.
///
/// ```swift
/// let file = try GGUFFile(contentsOf: "models/SmolLM2-135M-Instruct.Q4_1.gguf")
/// print(file["general.architecture"]?.stringValue ?? "?")      // llama
/// if let info = file.tensor(named: "token_embd.weight") {
///     let bytes = file.tensorData(info)                         // points into the mapping
/// }
/// ```
public final class GGUFFile: @unchecked Sendable {
    /// The format version, 2 or 3.
    public let version: UInt32
    /// Alignment of the data section and every tensor offset (`general.alignment`, default 32).
    public let alignment: Int
    /// Absolute byte offset where the data section starts.
    public let dataOffset: Int
    /// Bytes in the file.
    public let fileSize: Int
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Metadata values by key.
    public let metadata: [String: GGUFValue]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    /// The whole file's bytes (the mapping, or the buffer given to `init(bytes:owner:)`).
    public let bytes: UnsafeRawBufferPointer

    private let tensorIndex: [String: Int]
    private let owner: AnyObject?

    /// Maps `path` read-only (`PROT_READ`, `MAP_PRIVATE`) and parses it; the mapping lives as long as this object.
    /// Throws `.fileNotFound` for a missing file, `.io` when it cannot be opened or mapped, or the format error.
    public convenience init(contentsOf path: String) throws(GGUFError) {
        let region = try MappedRegion(path: path)
        try self.init(bytes: region.bytes, owner: region)
    }

    /// Parses a buffer holding a whole GGUF file. `owner` is kept alive as long as this object, so the
    /// buffer may belong to it; otherwise the caller keeps `bytes` valid. For tests and fuzzing.
    public init(bytes: UnsafeRawBufferPointer, owner: AnyObject? = nil) throws(GGUFError) {
        var parser = GGUFParser(bytes: bytes)
        let parsed = try parser.parse()
        self.version = parsed.version
        self.alignment = parsed.alignment
        self.dataOffset = parsed.dataOffset
        self.fileSize = bytes.count
        self.metadataKeys = parsed.keys
        self.metadata = parsed.metadata
        self.tensors = parsed.tensors
        self.tensorIndex = parsed.tensorIndex
        self.bytes = bytes
        self.owner = owner
    }

    /// Whether the bytes are a file mapping made by `init(contentsOf:)`.
    public var isMapped: Bool { owner is MappedRegion }

    /// The metadata value for `key`.
    public subscript(key: String) -> GGUFValue? { metadata[key] }

    /// The info of the tensor called `name`.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        guard let i = tensorIndex[name] else { return nil }
        return tensors[i]
    }

    /// The tensor's bytes, in place in the file's buffer (no copy). Empty when `info` does not describe
    /// bytes inside this file (an info made by hand).
    public func tensorData(_ info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        let count = info.byteCount
        let (start, o1) = dataOffset.addingReportingOverflow(info.offset)
        let (end, o2) = start.addingReportingOverflow(count)
        guard !o1, !o2, info.offset >= 0, end <= bytes.count, let base = bytes.baseAddress else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(start: base + start, count: count)
    }
}

extension GGUFFile: CustomStringConvertible {
    /// `GGUF v3: 33 keys, 272 tensors, alignment 32, data at 1785664 of 98362432 bytes`.
    public var description: String {
        "GGUF v\(version): \(metadata.count) keys, \(tensors.count) tensors, alignment \(alignment), "
            + "data at \(dataOffset) of \(fileSize) bytes"
    }
}
