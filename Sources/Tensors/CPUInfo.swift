#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import CNUMA

/// What `shimmy diag` reports about the processor, NUMA layout and BLAS library of this machine.
///
/// ```swift
/// let cpu = CPUInfo.current
/// print(cpu.features, cpu.logicalCores, cpu.blasConfig)
/// ```
public struct CPUInfo: Sendable, Equatable {
    /// The SIMD features kernels care about that this CPU has, in a fixed order:
    /// `avx2`, `fma`, `f16c`, `avx512f`, `avx512bw`, `avx512vl`, `avx512_vnni`, `avx512_bf16`, `gfni`.
    public var features: [String]
    /// The CPU model name from `/proc/cpuinfo`, or "unknown".
    public var modelName: String
    /// Logical processors this process may run on (`sched_getaffinity`), at least 1.
    public var logicalCores: Int
    /// Distinct (physical id, core id) pairs in `/proc/cpuinfo`; equal to `logicalCores` when unknown.
    public var physicalCores: Int
    /// NUMA nodes from libnuma (`numa_max_node() + 1`), or 1 when libnuma reports NUMA as unavailable.
    public var numaNodes: Int
    /// OpenBLAS's build configuration (`openblas_get_config`).
    public var blasConfig: String
    /// The kernel family OpenBLAS chose (`openblas_get_corename`), e.g. "SkylakeX" or "Prescott".
    public var blasCoreName: String
    /// OpenBLAS's thread count (`openblas_get_num_threads`).
    public var blasThreads: Int

    /// The information for this machine, read once.
    public static let current: CPUInfo = CPUInfo.detect()

    /// Threads a default pool uses: `SHIMMY_THREADS` when it is a positive integer, else the cores this process
    /// may run on.
    public static var defaultThreadCount: Int { defaultThreadCount(environment: ProcessInfo.processInfo.environment) }

    /// `defaultThreadCount` for the variables in `environment`.
    public static func defaultThreadCount(environment: [String: String]) -> Int {
        if let text = environment["SHIMMY_THREADS"], let value = Int(text), value > 0 {
            return min(value, 1024)
        }
        return affinityCoreCount()
    }

    /// Whether libnuma can be used (`numa_available`, which its manual asks to call before anything else).
    static let libnuma: Bool = numa_available() >= 0

    /// The CPUs this process may run on, ascending: its main thread's mask (libnuma's `numa_sched_getaffinity` of
    /// the process id, as `/proc/self/status` reports it), whatever the calling thread's own mask; CPUs 0 to
    /// `affinityCoreCount()` - 1 when libnuma cannot read it.
    public static func allowedCPUs() -> [Int] {
        let cpus = affinity(of: getpid())
        return cpus.isEmpty ? Array(0..<affinityCoreCount()) : cpus
    }

    /// The CPUs the calling thread may run on, ascending (empty when libnuma cannot read them).
    public static func currentThreadCPUs() -> [Int] { affinity(of: 0) }

    /// The affinity mask of thread `id` (0: the calling thread) as CPU numbers; empty when unknown.
    private static func affinity(of id: pid_t) -> [Int] {
        guard libnuma, let mask = numa_allocate_cpumask() else { return [] }
        defer { numa_bitmask_free(mask) }
        guard numa_sched_getaffinity(id, mask) >= 0 else { return [] }
        return (0..<Int(mask.pointee.size)).filter { numa_bitmask_isbitset(mask, UInt32($0)) != 0 }
    }

    /// `cpus` grouped by NUMA node (libnuma's `numa_node_of_cpu`): the nodes that hold any of them, ascending, each
    /// with its CPUs in the order given. Node 0 holds them all when libnuma is unavailable; a CPU libnuma places
    /// on no node is listed under node -1.
    public static func cpusByNode(_ cpus: [Int]) -> [NUMANodeCPUs] {
        guard libnuma else { return cpus.isEmpty ? [] : [NUMANodeCPUs(node: 0, cpus: cpus)] }
        let nodes = cpus.map { max(-1, Int(numa_node_of_cpu(Int32(truncatingIfNeeded: $0)))) }
        return Set(nodes).sorted().map { node in
            NUMANodeCPUs(node: node, cpus: zip(cpus, nodes).filter { $0.1 == node }.map(\.0))
        }
    }

    /// The order in which pinned threads take CPUs: every node's first CPU, then every node's second, and so on, so
    /// that consecutive threads spread over the nodes (llama.cpp's `--numa distribute`); on one node, the CPUs as
    /// given.
    public static func pinningOrder(_ nodes: [NUMANodeCPUs]) -> [Int] {
        let longest = nodes.map(\.cpus.count).max() ?? 0
        return (0..<longest).flatMap { i in nodes.compactMap { i < $0.cpus.count ? $0.cpus[i] : nil } }
    }

    /// Restricts the calling thread to `cpu` (libnuma's `numa_sched_setaffinity`); false when libnuma is unavailable
    /// or the system refuses, e.g. for a CPU outside the process's mask.
    @discardableResult
    public static func pinCurrentThread(toCPU cpu: Int) -> Bool {
        guard libnuma, cpu >= 0, let mask = numa_allocate_cpumask() else { return false }
        defer { numa_bitmask_free(mask) }
        guard cpu < Int(mask.pointee.size) else { return false }
        numa_bitmask_setbit(mask, UInt32(cpu))
        return numa_sched_setaffinity(0, mask) == 0
    }

    /// The feature names kernels look for, in report order.
    public static let knownFeatures = ["avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                                       "avx512_bf16", "gfni"]

    static func detect() -> CPUInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let parsed = parseProcCPUInfo(cpuinfo)
        let logical = affinityCoreCount()
        var nodes = 1
        if numa_available() >= 0 { nodes = max(1, Int(numa_max_node()) + 1) }
        let blas = OpenBLASLibrary.load(cpuFeatures: parsed.features)
        return CPUInfo(features: parsed.features, modelName: parsed.modelName, logicalCores: logical,
                       physicalCores: parsed.physicalCores ?? logical, numaNodes: nodes,
                       blasConfig: blas.config, blasCoreName: blas.coreName, blasThreads: blas.threads)
    }

    /// The vendor of `/proc/cpuinfo`'s first processor (`AuthenticAMD`, `GenuineIntel`), or "unknown"; read once,
    /// from the file's first 4 KB (its second line on x86), without loading BLAS as `current` does.
    public static let vendorID: String = {
        guard let file = FileHandle(forReadingAtPath: "/proc/cpuinfo") else { return "unknown" }
        defer { try? file.close() }
        let head = (try? file.read(upToCount: 4096)) ?? Data()
        return parseProcCPUInfo(String(decoding: head, as: UTF8.self)).vendor
    }()

    /// Reads the feature flags, model name, vendor and physical core count out of `/proc/cpuinfo` text.
    static func parseProcCPUInfo(_ text: String)
        -> (features: [String], modelName: String, vendor: String, physicalCores: Int?) {
        var flags = Set<String>()
        var model = "unknown"
        var vendor = "unknown"
        var cores = Set<String>()
        var physicalID = ""
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "flags" where flags.isEmpty: flags = Set(value.split(separator: " ").map(String.init))
            case "model name" where model == "unknown": model = value
            case "vendor_id" where vendor == "unknown": vendor = value
            case "physical id": physicalID = value
            case "core id": cores.insert(physicalID + "/" + value)
            default: break
            }
        }
        return (knownFeatures.filter { flags.contains($0) }, model, vendor, cores.isEmpty ? nil : cores.count)
    }

    /// Cores in this process's affinity mask (`Cpus_allowed` in /proc/self/status, which is what
    /// `sched_getaffinity` reports), falling back to the online processor count.
    static func affinityCoreCount() -> Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let count = allowedCPUCount(status: status), count > 0 {
            return count
        }
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// The number of set bits in the `Cpus_allowed:` hex mask (comma-separated 32-bit groups) of a status file.
    static func allowedCPUCount(status: String) -> Int? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else {
            return nil
        }
        var count = 0
        for char in line.dropFirst("Cpus_allowed:".count) where char != "," && char != " " && char != "\t" {
            guard let nibble = char.hexDigitValue else { return nil }
            count += nibble.nonzeroBitCount
        }
        return count
    }
}

/// One NUMA node and the CPUs of this process's mask on it.
public struct NUMANodeCPUs: Sendable, Equatable, Codable {
    /// The node number (libnuma's), or -1 for CPUs libnuma places on no node.
    public var node: Int
    /// CPU numbers, ascending.
    public var cpus: [Int]

    public init(node: Int, cpus: [Int]) {
        self.node = node
        self.cpus = cpus
    }
}
