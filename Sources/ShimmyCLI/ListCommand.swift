import ArgumentParser
import Foundation
import Shimmy

/// `shimmy list`: the models shimmy can find (name, size, path), the default one first.
///
/// ```
/// shimmy list
/// shimmy list --json
/// ```
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the models shimmy can find.",
        discussion: """
            Looks in SHIMMY_MODEL_PATHS (colon-separated), ./models, the default model folder (SHIMMY_MODELS_DIR \
            or the repository's models/), the Hugging Face cache and Ollama's store (OLLAMA_MODELS or \
            ~/.ollama/models). `shimmy diag` shows which of these folders exist.
            """)
    @OptionGroup var versionFlag: VersionFlag
    @Flag(name: .shortAndLong, help: "Print timings to standard error.") var verbose = false

    @Flag(name: .long, help: "Print JSON: {\"models\": [{name, path, size_bytes, modified}], \"searched_folders\": [...]}.")
    var json = false

    /// One model in `--json` output.
    struct Entry: Encodable {
        var name: String
        var path: String
        var sizeBytes: Int64
        var modified: String?
        var isDefault: Bool
        enum CodingKeys: String, CodingKey {
            case name, path, modified
            case sizeBytes = "size_bytes"
            case isDefault = "default"
        }
    }

    /// The whole `--json` document.
    struct Listing: Encodable {
        var models: [Entry]
        var searchedFolders: [String]
        enum CodingKeys: String, CodingKey {
            case models
            case searchedFolders = "searched_folders"
        }
    }

    func run() async throws {
        let started = ContinuousClock.now
        defer { if verbose { printError("shimmy list: \(ContinuousClock.now - started)") } }
        let registry = ModelRegistry.standard
        let models = registry.availableModels()
        let defaultName = try? registry.resolveName(nil).name
        if json {
            let dates = ISO8601DateFormatter()
            let listing = Listing(
                models: models.map {
                    Entry(name: $0.name, path: $0.path, sizeBytes: $0.sizeBytes,
                          modified: $0.modified.map { dates.string(from: $0) }, isDefault: $0.name == defaultName)
                },
                searchedFolders: registry.searchedFolders)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(listing), as: UTF8.self))
            return
        }
        guard !models.isEmpty else {
            print("No models found. Searched:")
            for folder in registry.searchedFolders { print("  \(folder)") }
            print("Run scripts/setup.sh to fetch the default model, or set SHIMMY_MODEL_PATHS.")
            return
        }
        let rows = models.map { [$0.name + ($0.name == defaultName ? " (default)" : ""), ModelDescriptor.sizeText($0.sizeBytes), $0.path] }
        printTable(header: ["NAME", "SIZE", "PATH"], rows: rows)
    }
}

/// Prints left-aligned columns separated by three spaces.
func printTable(header: [String], rows: [[String]]) {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    for row in all {
        let cells = row.indices.map { column in
            column == row.count - 1 ? row[column]
                : row[column] + String(repeating: " ", count: widths[column] - row[column].count)
        }
        print(cells.joined(separator: "   "))
    }
}
