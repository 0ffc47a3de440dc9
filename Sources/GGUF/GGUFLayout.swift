/// Where the writer put each field of a file it serialized: lets tests corrupt one field precisely and
/// lets tools explain a file.
public struct GGUFLayout: Sendable, Equatable {
    /// Offsets of one key-value pair.
    public struct KeyValue: Sendable, Equatable {
        /// The key's u64 length.
        public let keyOffset: Int
        /// The value's u32 type.
        public let typeOffset: Int
        /// The value's first byte (for an array: its u32 element type, then u64 count at `valueOffset + 4`).
        public let valueOffset: Int
    }

    /// Offsets of one tensor info and its data.
    public struct Tensor: Sendable, Equatable {
        /// The name's u64 length.
        public let infoOffset: Int
        /// The u32 dimension count.
        public let dimensionCountOffset: Int
        /// The first i64 dimension; dimension `j` is at `dimensionsOffset + 8 * j`.
        public let dimensionsOffset: Int
        /// The u32 ggml type.
        public let typeOffset: Int
        /// The u64 data offset field.
        public let offsetFieldOffset: Int
        /// Absolute offset of the tensor's first data byte.
        public let dataOffset: Int
        /// Bytes of data (before padding).
        public let byteCount: Int
    }

    /// The u32 version.
    public let versionOffset = 4
    /// The u64 tensor count.
    public let tensorCountOffset = 8
    /// The u64 key-value count.
    public let keyCountOffset = 16
    /// Each key's offsets.
    public internal(set) var keyValues: [String: KeyValue] = [:]
    /// Each tensor's offsets.
    public internal(set) var tensors: [String: Tensor] = [:]
    /// Absolute offset where the tensor info section ends (before padding).
    public internal(set) var tensorInfoEnd = 0
    /// Absolute offset of the data section.
    public internal(set) var dataSectionOffset = 0
    /// Total bytes.
    public internal(set) var fileSize = 0
    /// The alignment used.
    public internal(set) var alignment = GGUFLimits.defaultAlignment
}
