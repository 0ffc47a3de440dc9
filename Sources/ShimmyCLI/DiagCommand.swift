import ArgumentParser
import Foundation
import Shimmy

/// `shimmy diag`: version, operating system, CPU features, cores, NUMA nodes, BLAS, memory, threads and the model
/// folders searched.
///
/// ```
/// shimmy diag
/// shimmy diag --json
/// ```
struct DiagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diag", abstract: "Print the system, CPU, BLAS and model-folder diagnostics.")
    @OptionGroup var versionFlag: VersionFlag
    @Flag(name: .shortAndLong, help: "Print timings to standard error.") var verbose = false

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    /// The `--json` document: the system facts plus the version and the model folders.
    struct Report: Encodable {
        var version: String
        var system: SystemInfo
        var modelFolders: [ModelFolderStatus]
        var modelCount: Int

        enum CodingKeys: String, CodingKey {
            case version, system
            case modelFolders = "model_folders"
            case modelCount = "model_count"
        }
    }

    func run() async throws {
        let started = ContinuousClock.now
        defer { if verbose { printError("shimmy diag: \(ContinuousClock.now - started)") } }
        let registry = ModelRegistry.standard
        let report = Report(version: ShimmyCommand.version, system: SystemInfo.current(),
                            modelFolders: registry.folderStatus(), modelCount: registry.availableModels().count)
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print(Self.text(report), terminator: "")
    }

    /// The human-readable report.
    static func text(_ report: Report) -> String {
        let s = report.system
        var lines: [(String, String)] = [
            ("Version", "shimmy \(report.version)"),
            ("OS", "\(s.operatingSystem) (\(s.kernel), \(s.architecture))"),
            ("CPU", s.cpuModel),
            ("CPU features", s.cpuFeatures.isEmpty ? "none of the SIMD features used" : s.cpuFeatures.joined(separator: " ")),
            ("Cores", "\(s.logicalCores) logical, \(s.physicalCores) physical"),
            ("NUMA nodes", "\(s.numaNodes)" + (s.numaNodesText.isEmpty ? "" : " (\(s.numaNodesText))")),
            ("BLAS", "\(s.blasConfig) (kernels: \(s.blasCoreName), \(s.blasThreads) thread\(s.blasThreads == 1 ? "" : "s"))"),
            ("Quantized kernels", s.quantizedKernels),
            ("Float prompt tiles", s.floatPromptTiles + (s.floatPromptTilesFromEnvironment
                ? " (F16/F32 batches, SHIMMY_FLOAT_TILES)"
                : " (F16/F32 batches, chosen for this CPU's vendor; SHIMMY_FLOAT_TILES=4x4 or 2x8 to change)")),
            ("Memory", "\(ModelDescriptor.sizeText(s.memoryTotalBytes)) total, \(ModelDescriptor.sizeText(s.memoryAvailableBytes)) available"),
            ("Threads", "\(s.defaultThreads)" + (s.environment["SHIMMY_THREADS"] == nil ? " (one per core this process may use; set SHIMMY_THREADS to change)" : " (SHIMMY_THREADS)")),
            ("Thread pinning", s.pinningText),
        ]
        for key in SystemInfo.relevantVariables {
            if let value = s.environment[key] { lines.append(("  " + key, value)) }
        }
        let width = lines.map(\.0.count).max() ?? 0
        var out = lines.map { $0.0 + ":" + String(repeating: " ", count: width - $0.0.count + 1) + $0.1 }
            .joined(separator: "\n") + "\n"
        out += "Model folders searched (\(report.modelCount) model\(report.modelCount == 1 ? "" : "s") found):\n"
        for folder in report.modelFolders {
            let state = folder.exists
                ? "\(folder.modelCount) model\(folder.modelCount == 1 ? "" : "s")" : "not found"
            out += "  \(folder.path)  (\(state))\n"
        }
        return out
    }
}
