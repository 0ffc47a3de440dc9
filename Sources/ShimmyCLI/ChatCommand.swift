import ArgumentParser

/// `shimmy chat`: Chat with a model in the terminal.
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "chat", abstract: "Chat with a model in the terminal.")

    func run() async throws {
        throw ValidationError("shimmy chat is not built yet")
    }
}
