import ArgumentParser

/// `shimmy diag`: Print the system, CPU, BLAS and model-folder diagnostics.
struct DiagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diag", abstract: "Print the system, CPU, BLAS and model-folder diagnostics.")

    func run() async throws {
        throw ValidationError("shimmy diag is not built yet")
    }
}
