import ArgumentParser
import Foundation
import GGUF
import Shimmy

/// `shimmy tokenize`: print the token ids of a text as one JSON array, exactly as llama.cpp tokenizes it.
///
/// ```
/// shimmy tokenize --prompt "Hello world"                      # [19556,905]
/// shimmy tokenize --parse-special --prompt "<|im_start|>user" # [1,4093]
/// shimmy tokenize --file prompt.txt --pieces                  # [{"id":19556,"piece":"Hello"},...]
/// ```
struct TokenizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Print the token ids of a text.",
        discussion: """
            The ids are printed as one JSON array; with --pieces, as an array of {"id", "piece"} objects (a piece \
            that is part of a character shows U+FFFD). BOS/EOS are added where the model asks for them unless \
            --no-bos is given. --file reads the file's bytes as they are (no unescaping).
            """)
    @OptionGroup var versionFlag: VersionFlag
    @Flag(name: .shortAndLong, help: "Print timings to standard error.") var verbose = false

    @Option(name: .shortAndLong, help: "A model name (see `shimmy list`) or a GGUF path; the default model when omitted.")
    var model: String?

    @Flag(name: .long, help: "Turn special-token text such as <|im_start|> into its token.")
    var parseSpecial = false

    @Option(name: .long, help: "The text to tokenize.")
    var prompt: String?

    @Option(name: .long, help: "A file whose bytes are tokenized.")
    var file: String?

    @Flag(name: .long, help: "Print {\"id\", \"piece\"} objects instead of bare ids.")
    var pieces = false

    @Flag(name: .long, help: "Add no BOS/EOS even when the model asks for them.")
    var noBos = false

    func validate() throws {
        if (prompt == nil) == (file == nil) {
            throw ValidationError("Give exactly one of --prompt TEXT or --file PATH.")
        }
    }

    func run() async throws {
        let started = ContinuousClock.now
        defer { if verbose { printError("shimmy tokenize: \(ContinuousClock.now - started)") } }
        let bytes: [UInt8]
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ShimmyError(.invalidRequest, "Cannot read the input file", details: file)
            }
            bytes = [UInt8](data)
        } else {
            bytes = Array((prompt ?? "").utf8)
        }
        let descriptor = try ModelRegistry.standard.resolve(model)
        let gguf: GGUFFile
        do {
            gguf = try GGUFFile(contentsOf: descriptor.path)
        } catch {
            throw ShimmyError(.serverError, "Cannot read the model file", details: "\(descriptor.path): \(error)")
        }
        let tokenizer = try Tokenizer(gguf: gguf)
        let ids = tokenizer.encode(bytes: bytes, addSpecial: !noBos, parseSpecial: parseSpecial)
        print(pieces ? Self.piecesJSON(ids, tokenizer) : Self.idsJSON(ids))
    }

    /// `[1,2,3]`
    static func idsJSON(_ ids: [TokenID]) -> String {
        "[" + ids.map(String.init).joined(separator: ",") + "]"
    }

    /// `[{"id":1,"piece":"..."},...]`
    static func piecesJSON(_ ids: [TokenID], _ tokenizer: Tokenizer) -> String {
        "[" + ids.map { "{\"id\":\($0),\"piece\":\(jsonString(tokenizer.piece($0)))}" }.joined(separator: ",") + "]"
    }

    /// A JSON string literal (control characters escaped, everything else as UTF-8).
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
