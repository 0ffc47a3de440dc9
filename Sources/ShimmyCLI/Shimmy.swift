import ArgumentParser
import Foundation
import Shimmy

/// `shimmy`: the command-line tool.
struct ShimmyCommand: AsyncParsableCommand {
    /// What `-V/--version` prints (answered by `ShimmyMain`, and by `VersionFlag` in each command's help; not
    /// ArgumentParser's own version flag, which would list `--version` twice).
    static let version = "1.1.0"

    static let configuration = CommandConfiguration(
        commandName: "shimmy",
        abstract: "Local LLM inference: serve, generate and inspect GGUF models.",
        discussion: """
            Global options, before or after the command: -v/--verbose (verbose logging, timings on standard error), \
            -h/--help, -V/--version.
            """,
        subcommands: [
            ServeCommand.self, GenerateCommand.self, ChatCommand.self, PerplexityCommand.self, ProbeCommand.self,
            QuantizeCommand.self, TokenizeCommand.self, EmbedCommand.self, ListCommand.self, DiagCommand.self, BenchCommand.self,
        ]
    )

    @OptionGroup var versionFlag: VersionFlag
}

@main
enum ShimmyMain {
    static func main() async {
        if VersionFlag.requested(in: CommandLine.arguments) {
            print(ShimmyCommand.version)
            return
        }
        // `shimmy -v serve ...` is `shimmy serve -v ...`: every command takes the flag; `shimmy -v` alone, the help
        var arguments = Array(CommandLine.arguments.dropFirst())
        let leading = arguments.prefix { ["-v", "--verbose"].contains($0) }.count
        if leading > 0 {
            arguments.removeFirst(leading)
            if let command = arguments.first, !command.hasPrefix("-") {
                arguments.insert("-v", at: 1)
            } else {
                arguments = ["--help"]
            }
        }
        await ShimmyCommand.main(arguments)
    }
}
