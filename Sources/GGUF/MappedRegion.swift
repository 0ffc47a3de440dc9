#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only private memory mapping of a whole file, unmapped when the last reference goes.
///
/// Weights are used in place from this mapping; nothing is copied. If another process truncates the file
/// while it is mapped, touching the lost pages raises SIGBUS: replace model files by rename, never in place.
public final class MappedRegion: @unchecked Sendable {
    /// The mapped bytes (empty for an empty file).
    public let bytes: UnsafeRawBufferPointer

    /// Maps `path` with `PROT_READ`, `MAP_PRIVATE`.
    /// Throws `.fileNotFound` when the path does not exist, `.io` for any other failure.
    public init(path: String) throws(GGUFError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT { throw .fileNotFound(path) }
            throw .io("cannot open '\(path)': \(MappedRegion.errorText(code))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw .io("cannot stat '\(path)': \(MappedRegion.errorText(errno))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .io("'\(path)' is not a regular file") }
        let size = Int(info.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw .io("cannot map '\(path)' (\(size) bytes): \(MappedRegion.errorText(errno))")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}
