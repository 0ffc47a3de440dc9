// libFuzzer target: the GGUF reader (`GGUFFile(bytes:)`) and every accessor a loader calls on a parsed file.
// Built by scripts/fuzz.sh together with Sources/GGUF/*.swift; not part of the SwiftPM package.

/// Keeps reads of tensor bytes from being optimized away, so AddressSanitizer checks them.
nonisolated(unsafe) var fuzzSink: UInt8 = 0

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let file: GGUFFile
    do {
        file = try GGUFFile(bytes: UnsafeRawBufferPointer(start: data, count: count))
    } catch {
        fuzzSink &+= UInt8(truncatingIfNeeded: error.description.utf8.count)
        return 0
    }
    // Touch what a model loader reads: metadata by key in every typed form, every tensor's bytes.
    for key in file.metadataKeys {
        _ = try? file.int(key)
        _ = try? file.float(key)
        _ = try? file.string(key)
        _ = try? file.bool(key, default: false)
        _ = try? file.stringArray(key)
        _ = try? file.floatArray(key)
        _ = try? file.intArray(key)
    }
    for info in file.tensors {
        _ = info.elementCount
        _ = info.rowCount
        let bytes = file.tensorData(info)
        if let first = bytes.first, let last = bytes.last { fuzzSink ^= first ^ last }
        _ = file.tensor(named: info.name)
    }
    fuzzSink &+= UInt8(truncatingIfNeeded: file.description.utf8.count)
    return 0
}
