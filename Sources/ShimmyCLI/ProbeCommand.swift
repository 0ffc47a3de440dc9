import ArgumentParser

/// `shimmy probe`: Load a model and describe it.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "probe", abstract: "Load a model and describe it.")

    func run() async throws {
        throw ValidationError("shimmy probe is not built yet")
    }
}
