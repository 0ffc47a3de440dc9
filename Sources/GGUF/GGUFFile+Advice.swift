#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension GGUFFile {
    /// How the caller will touch the tensor data, passed to `madvise`.
    public enum AccessAdvice: Sendable {
        /// Start reading the pages in now (cold start: overlap disk reads with setup).
        case willNeed
        /// Pages will be read in order (one pass, e.g. quantizing).
        case sequential
        /// Pages will be read in no order (inference over many layers).
        case random
        /// The kernel's default.
        case normal
        /// Map every page now (`MADV_POPULATE_READ`, Linux 5.14+): one pass in the kernel instead of a page fault
        /// per 64 KiB on first use. Blocks until done; returns false where the kernel does not know it.
        case populate
    }

    /// The bytes of tensor `name`, in place; nil when there is no such tensor.
    public func tensorData(named name: String) -> UnsafeRawBufferPointer? {
        tensor(named: name).map(tensorData)
    }

    /// Advises the kernel how the data section will be used. Only a hint: does nothing for a buffer that
    /// is not a mapping, and returns whether the kernel accepted it.
    @discardableResult
    public func advise(_ advice: AccessAdvice) -> Bool {
        guard isMapped, let base = bytes.baseAddress else { return false }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return false }
        let start = dataOffset / page * page
        guard start < bytes.count else { return false }
        let flag: Int32
        switch advice {
        case .willNeed: flag = MADV_WILLNEED
        case .sequential: flag = MADV_SEQUENTIAL
        case .random: flag = MADV_RANDOM
        case .normal: flag = MADV_NORMAL
        case .populate:
            #if os(Linux)
            flag = 22  // MADV_POPULATE_READ, not in every libc's headers
            #else
            return false
            #endif
        }
        return madvise(UnsafeMutableRawPointer(mutating: base + start), bytes.count - start, flag) == 0
    }
}
