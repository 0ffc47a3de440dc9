#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// OpenBLAS, loaded on demand for `shimmy diag`. shimmy's compute runs on its own kernels and never calls BLAS, so
/// the library is not linked: linked, its constructor would run before `main` in every process, detect this CPU
/// family wrongly ("Prescott" in Debian's 0.3.21) and start a worker that spins for ~0.1 s, a core taken from the
/// cold start. Loaded here, the environment it reads at load time can be set first, without re-executing.
enum OpenBLASLibrary {
    struct Info {
        var config: String
        var coreName: String
        var threads: Int
    }

    /// What the library reports, or "unknown" values when it cannot be loaded. `cpuFeatures` (`CPUInfo.features`)
    /// choose its kernel family.
    static func load(cpuFeatures: [String]) -> Info {
        loaded(cpuFeatures: cpuFeatures)
            ?? Info(config: "unknown (libopenblas not found)", coreName: "unknown", threads: 0)
    }

    private static func loaded(cpuFeatures: [String]) -> Info? {
        prepareEnvironment(cpuFeatures: cpuFeatures)
        guard let handle = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL)
            ?? dlopen("libopenblas.so", RTLD_NOW | RTLD_LOCAL) else { return nil }
        typealias StringFunction = @convention(c) () -> UnsafePointer<CChar>?
        typealias IntFunction = @convention(c) () -> Int32
        func string(_ name: String) -> String {
            guard let symbol = dlsym(handle, name) else { return "unknown" }
            return unsafeBitCast(symbol, to: StringFunction.self)().map { String(cString: $0) } ?? "unknown"
        }
        let threads = dlsym(handle, "openblas_get_num_threads").map { Int(unsafeBitCast($0, to: IntFunction.self)()) }
        return Info(config: string("openblas_get_config"), coreName: string("openblas_get_corename"),
                    threads: threads ?? 0)
    }

    /// The kernel family for this CPU (unless the user chose one) and no spinning after calls; OpenBLAS reads both
    /// only when it loads.
    private static func prepareEnvironment(cpuFeatures features: [String]) {
        let env = ProcessInfo.processInfo.environment
        if env["OPENBLAS_CORETYPE"] == nil {
            let coreType = features.contains("avx512f") ? "SkylakeX" : features.contains("avx2") ? "Haswell" : ""
            if !coreType.isEmpty { setenv("OPENBLAS_CORETYPE", coreType, 1) }
        }
        if env["OPENBLAS_THREAD_TIMEOUT"] == nil { setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1) }
    }
}
