import ArgumentParser
import Foundation
import Shimmy

/// `shimmy`: the command-line tool.
struct ShimmyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shimmy",
        abstract: "Local LLM inference: serve, generate and inspect GGUF models.",
        version: "1.1.0",
        subcommands: [
            ServeCommand.self, GenerateCommand.self, ChatCommand.self, PerplexityCommand.self, ProbeCommand.self,
            QuantizeCommand.self, TokenizeCommand.self, ListCommand.self, DiagCommand.self, BenchCommand.self,
        ]
    )
}

@main
enum ShimmyMain {
    static func main() async {
        if VersionFlag.requested(in: CommandLine.arguments) {
            print(ShimmyCommand.configuration.version)
            return
        }
        BLASEnvironment.prepare()
        await ShimmyCommand.main()
    }
}

/// OpenBLAS reads its settings when the library loads, before `main`: Debian's build detects this CPU family as
/// "Prescott" and its idle workers spin for 0.1 s after each call. shimmy's compute runs on its own kernels and
/// never calls BLAS, so only `shimmy diag`, which reports what OpenBLAS would run, sets the variables when they
/// are missing and executes itself once more so that the library loads with them. Every other command starts
/// straight away (a second process start costs ~7 ms of the cold start).
enum BLASEnvironment {
    static func prepare() {
        let env = ProcessInfo.processInfo.environment
        let arguments = CommandLine.arguments
        guard arguments.dropFirst().first == "diag", env["SHIMMY_BLAS_REEXEC"] == nil,
              env["OPENBLAS_CORETYPE"] == nil || env["OPENBLAS_THREAD_TIMEOUT"] == nil else { return }
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let coreType = flags.contains(" avx512f") ? "SkylakeX" : flags.contains(" avx2") ? "Haswell" : ""
        if env["OPENBLAS_CORETYPE"] == nil, !coreType.isEmpty { setenv("OPENBLAS_CORETYPE", coreType, 1) }
        if env["OPENBLAS_THREAD_TIMEOUT"] == nil { setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1) }
        setenv("SHIMMY_BLAS_REEXEC", "1", 1)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", argv)
        // exec failed: go on with the library's own detection
        for p in argv { free(p) }
    }
}
