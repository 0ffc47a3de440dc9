import Foundation
import Tensors

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `shimmy diag` reports: the operating system, CPU, NUMA layout, BLAS, memory and thread settings.
///
/// ```swift
/// let info = SystemInfo.current()
/// print(info.operatingSystem, info.cpuFeatures, info.memoryTotalBytes)
/// ```
public struct SystemInfo: Sendable, Equatable, Codable {
    /// `PRETTY_NAME` from `/etc/os-release`, or the kernel name.
    public var operatingSystem: String
    /// Kernel name and release (`uname -sr`).
    public var kernel: String
    /// Machine architecture (`uname -m`).
    public var architecture: String
    /// The CPU model name.
    public var cpuModel: String
    /// The SIMD features the kernels use that this CPU has.
    public var cpuFeatures: [String]
    /// Processors this process may run on.
    public var logicalCores: Int
    /// Physical cores.
    public var physicalCores: Int
    /// NUMA nodes (libnuma).
    public var numaNodes: Int
    /// The CPUs this process may run on, by NUMA node (libnuma): the nodes that hold any, ascending; nil in reports
    /// from before shimmy listed them.
    public var cpusByNumaNode: [NUMANodeCPUs]?
    /// OpenBLAS's build configuration.
    public var blasConfig: String
    /// The kernel family OpenBLAS chose (`SkylakeX`, `Haswell`, or `Prescott` when misdetected).
    public var blasCoreName: String
    /// OpenBLAS's thread count.
    public var blasThreads: Int
    /// The quantized dot-product kernels this build runs (`KernelSet.best`), e.g. "AVX-512 VNNI, GFNI".
    public var quantizedKernels: String
    /// How F16 and F32 prompt batches are tiled on this CPU (`FloatTiles.preferred`), e.g. "4x4".
    public var floatPromptTiles: String
    /// Whether `SHIMMY_FLOAT_TILES` names the plan (any other value is ignored, and the vendor's plan taken).
    public var floatPromptTilesFromEnvironment: Bool {
        environment["SHIMMY_FLOAT_TILES"].flatMap(FloatTiles.init(name:)) != nil
    }
    /// `MemTotal` from `/proc/meminfo`, in bytes (0 when unknown).
    public var memoryTotalBytes: Int64
    /// `MemAvailable` from `/proc/meminfo`, in bytes (0 when unknown).
    public var memoryAvailableBytes: Int64
    /// Worker threads a model uses unless told otherwise (`SHIMMY_THREADS`, else the cores).
    public var defaultThreads: Int
    /// The CPUs the default pool pins its worker threads to (`SHIMMY_PIN_THREADS=1`; `ThreadPool.workerCPUs`: the
    /// calling thread and workers past the last CPU are not pinned), or nil when it does not pin.
    public var pinnedWorkers: [Int]?
    /// The environment variables that change shimmy's behaviour, those that are set.
    public var environment: [String: String]

    /// The variables `environment` reports.
    public static let relevantVariables = [
        "SHIMMY_THREADS", "SHIMMY_MODEL_PATHS", "SHIMMY_MODELS_DIR", "OLLAMA_MODELS", "HF_HOME", "HF_HUB_CACHE",
        "OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OPENBLAS_THREAD_TIMEOUT", "SHIMMY_FLOAT_TILES",
        "SHIMMY_PIN_THREADS",
    ]

    /// Reads this machine's facts.
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> SystemInfo {
        let cpu = CPUInfo.current
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let memory = parseMeminfo(meminfo)
        let osRelease = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        let uts = unameFields()
        let nodeCPUs = CPUInfo.cpusByNode(CPUInfo.allowedCPUs())
        let threads = CPUInfo.defaultThreadCount(environment: environment)
        let pinned = ThreadPool.pinsWorkers(environment: environment)
            ? ThreadPool.workerCPUs(threads: threads, order: CPUInfo.pinningOrder(nodeCPUs)) : nil
        return SystemInfo(
            operatingSystem: parseOSRelease(osRelease) ?? uts.sysname, kernel: uts.sysname + " " + uts.release,
            architecture: uts.machine, cpuModel: cpu.modelName, cpuFeatures: cpu.features,
            logicalCores: cpu.logicalCores, physicalCores: cpu.physicalCores, numaNodes: cpu.numaNodes,
            cpusByNumaNode: nodeCPUs,
            blasConfig: cpu.blasConfig, blasCoreName: cpu.blasCoreName, blasThreads: cpu.blasThreads,
            quantizedKernels: KernelSet.best.description, floatPromptTiles: FloatTiles.preferred.description,
            memoryTotalBytes: memory.total, memoryAvailableBytes: memory.available,
            defaultThreads: threads, pinnedWorkers: pinned,
            environment: environment.filter { relevantVariables.contains($0.key) })
    }

    /// Each NUMA node's CPUs, e.g. "node 0: CPUs 0-3; node 1: CPUs 4-7" (empty when unknown).
    public var numaNodesText: String {
        (cpusByNumaNode ?? []).map { node in
            "node \(node.node): CPU\(node.cpus.count == 1 ? "" : "s") " + Self.cpuListText(node.cpus)
        }.joined(separator: "; ")
    }

    /// Where the default pool's threads run, e.g. "1 worker thread on CPU 1, the calling thread unpinned
    /// (SHIMMY_PIN_THREADS)".
    public var pinningText: String {
        guard let cpus = pinnedWorkers else {
            return "off (SHIMMY_PIN_THREADS=1 pins each worker thread to a CPU of its own)"
        }
        let workers = max(0, defaultThreads - 1)
        if workers == 0 { return "on, but one thread has no workers to pin (SHIMMY_PIN_THREADS)" }
        if cpus.isEmpty { return "on, but no worker thread has a CPU of its own (SHIMMY_PIN_THREADS)" }
        let plural = cpus.count == 1 ? "" : "s"
        let list = cpus.map(String.init).joined(separator: ",")
        let rest = workers > cpus.count ? ", \(workers - cpus.count) more unpinned" : ""
        return "\(cpus.count) worker thread\(plural) on CPU\(plural) \(list)\(rest), the calling thread unpinned "
            + "(SHIMMY_PIN_THREADS)"
    }

    /// CPU numbers as ranges, e.g. "0-3,8,10-11" (empty for none).
    public static func cpuListText(_ cpus: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < cpus.count {
            var j = i
            while j + 1 < cpus.count && cpus[j + 1] == cpus[j] + 1 { j += 1 }
            parts.append(j == i ? "\(cpus[i])" : "\(cpus[i])-\(cpus[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// `MemTotal` and `MemAvailable` in bytes from `/proc/meminfo` text (values there are in kB); 0 when absent.
    public static func parseMeminfo(_ text: String) -> (total: Int64, available: Int64) {
        var total: Int64 = 0
        var available: Int64 = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == ":" })
            guard fields.count >= 2, let value = Int64(fields[1]) else { continue }
            let bytes = fields.count >= 3 && fields[2] == "kB" ? value &* 1024 : value
            if fields[0] == "MemTotal" { total = bytes }
            if fields[0] == "MemAvailable" { available = bytes }
        }
        return (total, available)
    }

    /// `PRETTY_NAME` (else `NAME`) from `/etc/os-release` text, quotes removed.
    public static func parseOSRelease(_ text: String) -> String? {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            values[String(line[..<eq])] = value
        }
        return values["PRETTY_NAME"] ?? values["NAME"]
    }

    private static func unameFields() -> (sysname: String, release: String, machine: String) {
        var u = utsname()
        guard uname(&u) == 0 else { return ("unknown", "", "unknown") }
        func text<T>(_ field: inout T) -> String {
            withUnsafeBytes(of: &field) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return (text(&u.sysname), text(&u.release), text(&u.machine))
    }
}

/// One folder the registry searches, as `shimmy diag` shows it.
public struct ModelFolderStatus: Sendable, Equatable, Codable {
    /// The absolute path.
    public var path: String
    /// Whether the folder exists.
    public var exists: Bool
    /// Models found in this folder alone (before names found earlier are dropped).
    public var modelCount: Int

    public init(path: String, exists: Bool, modelCount: Int) {
        self.path = path
        self.exists = exists
        self.modelCount = modelCount
    }
}

extension ModelRegistry {
    /// Each searched folder with whether it exists and how many models it holds.
    public func folderStatus() -> [ModelFolderStatus] {
        searchedFolders.map { folder in
            ModelFolderStatus(path: folder, exists: ModelScanner.isDirectory(folder),
                              modelCount: ModelScanner.scan(folder).count)
        }
    }
}
