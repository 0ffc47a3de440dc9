import ArgumentParser

/// `-V/--version` on every subcommand. `ShimmyMain` answers it before parsing, so it works even when the
/// command's required options are missing; this group documents it in each command's help.
struct VersionFlag: ParsableArguments {
    @Flag(name: [.customShort("V"), .customLong("version")], help: "Print the version and exit.")
    var version = false

    /// True when the arguments ask for the version (before any `--`).
    static func requested(in arguments: [String]) -> Bool {
        for argument in arguments.dropFirst() {
            if argument == "--" { return false }
            if argument == "-V" || argument == "--version" { return true }
        }
        return false
    }
}
