import Foundation

/// The process's resident memory, as `/api/health` reports it.
enum MemoryUsage {
    /// Resident set size in bytes from `/proc/self/status` (nil where unavailable).
    static func residentBytes() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.dropFirst(6).filter { $0.isNumber }
            if let kilobytes = Int64(digits) { return kilobytes * 1024 }
        }
        return nil
    }

    /// `2.1GB`, `148.3MB`, or `unknown`.
    static func formatted(_ bytes: Int64?) -> String {
        guard let bytes else { return "unknown" }
        let mb = Double(bytes) / 1_048_576
        if mb >= 1024 { return String(format: "%.1fGB", mb / 1024) }
        return String(format: "%.1fMB", mb)
    }
}
