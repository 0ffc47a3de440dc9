import ArgumentParser

/// `shimmy serve`: Serve models over HTTP: the shimmy 1.1 API, OpenAI and Ollama endpoints.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve models over HTTP: the shimmy 1.1 API, OpenAI and Ollama endpoints.")

    func run() async throws {
        throw ValidationError("shimmy serve is not built yet")
    }
}
