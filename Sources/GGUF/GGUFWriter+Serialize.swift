#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension GGUFWriter {
    /// The header (everything before the data section, padded) and where each field went.
    func encodeHeader() throws(GGUFError) -> (header: [UInt8], layout: GGUFLayout) {
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }
        var alignment = self.alignment
        var keys = self.keys
        var values = self.values
        if let value = values["general.alignment"] {
            guard case .uint32(let a) = value else { throw .alignmentWrongType(value.type) }
            alignment = Int(a)
        } else if alignment != GGUFLimits.defaultAlignment, alignment > 0, alignment <= Int(UInt32.max) {
            keys.append("general.alignment")
            values["general.alignment"] = .uint32(UInt32(alignment))
        }
        guard alignment > 0, alignment & (alignment - 1) == 0 else { throw .alignmentNotPowerOfTwo(alignment) }

        var layout = GGUFLayout()
        layout.alignment = alignment
        var sink = ByteSink()
        sink.append(GGUFParser.magic)
        sink.append(version)
        sink.append(UInt64(pending.count))
        sink.append(UInt64(keys.count))
        for (i, key) in keys.enumerated() {
            guard !key.isEmpty else { throw .emptyKey(index: i) }
            guard let value = values[key] else { continue }
            let keyOffset = sink.count
            sink.append(key)
            let typeOffset = sink.count
            sink.append(value.type.rawValue)
            let valueOffset = sink.count
            try sink.append(value: value, key: key)
            layout.keyValues[key] = .init(keyOffset: keyOffset, typeOffset: typeOffset, valueOffset: valueOffset)
        }
        var offset = 0
        var placed: [(info: Int, dims: Int, type: Int, field: Int, offset: Int)] = []
        for t in pending {
            let info = sink.count
            sink.append(t.name)
            let dimsCount = sink.count
            sink.append(UInt32(t.dimensions.count))
            for d in t.dimensions { sink.append(Int64(d)) }
            let type = sink.count
            sink.append(t.type.rawValue)
            let field = sink.count
            sink.append(UInt64(offset))
            placed.append((info, dimsCount, type, field, offset))
            let (next, o) = offset.addingReportingOverflow(Self.padded(t.byteCount, alignment))
            guard !o else { throw .dimensionOverflow(tensor: t.name) }
            offset = next
        }
        layout.tensorInfoEnd = sink.count
        sink.pad(to: alignment)
        layout.dataSectionOffset = sink.count
        for (t, p) in zip(pending, placed) {
            layout.tensors[t.name] = .init(infoOffset: p.info, dimensionCountOffset: p.dims,
                                           dimensionsOffset: p.dims + 4, typeOffset: p.type,
                                           offsetFieldOffset: p.field, dataOffset: sink.count + p.offset,
                                           byteCount: t.byteCount)
        }
        layout.fileSize = sink.count + offset
        return (sink.bytes, layout)
    }

    static func padded(_ n: Int, _ alignment: Int) -> Int {
        let rem = n % alignment
        return rem == 0 ? n : n + (alignment - rem)
    }

    /// The whole file in memory (for tests and small files).
    public func serialized() throws -> [UInt8] {
        try serializedWithLayout().bytes
    }

    /// The whole file in memory and where each field went.
    public func serializedWithLayout() throws -> (bytes: [UInt8], layout: GGUFLayout) {
        let (header, layout) = try encodeHeader()
        var out = header
        out.reserveCapacity(layout.fileSize)
        for t in pending {
            switch t.source {
            case .bytes(let data):
                out.append(contentsOf: data)
            case .producer(let produce):
                let start = out.count
                out.append(contentsOf: repeatElement(0, count: t.byteCount))
                try out.withUnsafeMutableBytes { all in
                    try produce(UnsafeMutableRawBufferPointer(rebasing: all[start..<(start + t.byteCount)]))
                }
            }
            let rem = out.count % layout.alignment
            if rem != 0 { out.append(contentsOf: repeatElement(0, count: layout.alignment - rem)) }
        }
        return (out, layout)
    }

    /// Writes the file to a temporary `<path>.partial-<pid>-<random>` beside `path`, syncs it and renames it over
    /// `path`; on any failure the temporary file is removed and `path` is left as it was.
    /// Producers run one at a time, so only one tensor's bytes are in memory.
    public func write(to path: String) throws {
        let (header, layout) = try encodeHeader()
        let temp = "\(path).partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw GGUFError.io("cannot create '\(temp)': \(MappedRegion.errorText(errno))") }
        var closed = false
        do {
            try Self.writeAll(fd, header, path: temp)
            let largest = pending.lazy.filter { if case .producer = $0.source { true } else { false } }
                .map(\.byteCount).max() ?? 0
            let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(largest, 1), alignment: 64)
            defer { scratch.deallocate() }
            let zeros = [UInt8](repeating: 0, count: layout.alignment)
            for t in pending {
                switch t.source {
                case .bytes(let data):
                    try Self.writeAll(fd, data, path: temp)
                case .producer(let produce):
                    let buffer = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<t.byteCount])
                    buffer.initializeMemory(as: UInt8.self, repeating: 0)
                    try produce(buffer)
                    try Self.writeAll(fd, UnsafeRawBufferPointer(buffer), path: temp)
                }
                let rem = t.byteCount % layout.alignment
                if rem != 0 { try Self.writeAll(fd, Array(zeros[0..<(layout.alignment - rem)]), path: temp) }
            }
            guard fsync(fd) == 0 else { throw GGUFError.io("cannot sync '\(temp)': \(MappedRegion.errorText(errno))") }
            closed = true
            guard close(fd) == 0 else { throw GGUFError.io("cannot close '\(temp)': \(MappedRegion.errorText(errno))") }
            guard rename(temp, path) == 0 else {
                throw GGUFError.io("cannot rename '\(temp)' to '\(path)': \(MappedRegion.errorText(errno))")
            }
        } catch {
            if !closed { close(fd) }
            unlink(temp)
            throw error
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(GGUFError) {
        var failure: GGUFError?
        bytes.withUnsafeBytes { buffer in
            do throws(GGUFError) { try writeAll(fd, buffer, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws(GGUFError) {
        guard var base = buffer.baseAddress else { return }
        var left = buffer.count
        while left > 0 {
            let n = posixWrite(fd, base, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("cannot write '\(path)': \(MappedRegion.errorText(errno))")
            }
            base += n
            left -= n
        }
    }
}

/// `write(2)`, named apart from `GGUFWriter.write(to:)`.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
