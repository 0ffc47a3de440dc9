import ArgumentParser

/// `shimmy list`: List the models shimmy can find.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the models shimmy can find.")

    func run() async throws {
        throw ValidationError("shimmy list is not built yet")
    }
}
