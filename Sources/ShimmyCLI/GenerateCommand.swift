import ArgumentParser

/// `shimmy generate`: Generate text from a prompt.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Generate text from a prompt.")

    func run() async throws {
        throw ValidationError("shimmy generate is not built yet")
    }
}
