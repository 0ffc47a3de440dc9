import Foundation
import ShimmyTestSupport
import Testing

/// Options out of range are usage errors (exit 64 with the command's usage), never a crash or a silent default.
@Suite("option validation")
struct OptionValidationTests {
    @Test("out-of-range options exit 64 naming the option", arguments: [
        (["bench", "-p", "9223372036854775807", "-n", "1", "-r", "1"], "-p"),
        (["bench", "-d", "9223372036854775807"], "-d"),
        (["bench", "-t", "1,abc"], "-t"),
        (["generate", "--prompt", "x", "--temperature", "nan"], "--temperature"),
        (["generate", "--prompt", "x", "--top-p", "5"], "--top-p"),
        (["generate", "--prompt", "x", "--min-p", "2"], "--min-p"),
        (["generate", "--prompt", "x", "--top-k=-5"], "--top-k"),
        (["generate", "--prompt", "x", "--repeat-penalty", "0"], "--repeat-penalty"),
        (["chat", "--temperature", "inf"], "--temperature"),
        (["perplexity", "--file", "/dev/null", "-t", "0"], "--threads"),
        (["perplexity", "--file", "/dev/null", "--chunks", "0"], "--chunks"),
        (["serve", "--context-length", "0"], "--context-length"),
    ] as [([String], String)])
    func refused(arguments: [String], option: String) throws {
        let result = try runShimmy(arguments)
        #expect(result.status == 64, "\(arguments): status \(result.status), \(result.stderr)")
        #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(option), "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains("Usage: shimmy \(arguments[0])"), "\(arguments): \(result.stderr)")
    }

    @Test("-v before a command is that command's -v; alone, the top-level help with -V and -v")
    func globalOptions() throws {
        let help = try runShimmy(["-v"])
        #expect(help.status == 0 && help.stdout.contains("-V, --version") && help.stdout.contains("-v/--verbose"),
                "\(help.stdout)\(help.stderr)")
        for leading in [["-v"], ["-v", "-v"], ["--verbose", "-v"]] {
            let timed = try runShimmy(leading + ["list"])
            #expect(timed.status == 0 && timed.stderr.contains("shimmy list:"), "\(leading): \(timed.stderr)")
        }
        // each command's help lists the version flag once
        let serveHelp = try runShimmy(["serve", "--help"]).stdout
        #expect(serveHelp.components(separatedBy: "\n").filter { $0.contains("--version ") || $0.hasSuffix("--version") }.count == 1,
                "\(serveHelp)")
    }

    @Test("--bind without a host listens on loopback, not on every interface")
    func bindWithoutHost() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.shimmyBinary)
        process.arguments = ["serve", "--bind", ":0", "--model", TestPaths.defaultModel]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        var line = ""
        let handle = out.fileHandleForReading
        while !line.contains("\n") {
            let data = handle.availableData
            if data.isEmpty { break }
            line += String(decoding: data, as: UTF8.self)
        }
        #expect(line.contains("listening on http://127.0.0.1:"), "\(line)")
    }
}
