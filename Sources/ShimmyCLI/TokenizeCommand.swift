import ArgumentParser

/// `shimmy tokenize`: Print the token ids of a text.
struct TokenizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Print the token ids of a text.")

    func run() async throws {
        throw ValidationError("shimmy tokenize is not built yet")
    }
}
