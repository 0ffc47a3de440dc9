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
        (["generate", "--prompt", "x", "--repeat-penalty", "101"], "--repeat-penalty"),
        // a negative value after a space is the option's value, checked as such (not "Missing value")
        (["generate", "--prompt", "x", "--max-tokens", "-1"], "--max-tokens"),
        (["generate", "--prompt", "x", "--seed", "-1x"], "--seed"),
        (["bench", "-d", "-1"], "-d"),
        (["bench", "-p", "0", "-n", "0"], "-n 0"),
        (["serve", "--port", "-1"], "--port"),
        (["generate", "--prompt", "x", "--threads", "0"], "--threads"),
        (["chat", "--temperature", "inf"], "--temperature"),
        (["perplexity", "--file", "/dev/null", "-t", "0"], "--threads"),
        (["perplexity", "--file", "/dev/null", "--chunks", "0"], "--chunks"),
        (["perplexity", "--file", "/dev/null", "--ctx", "3"], "--ctx"),
        (["serve", "--context-length", "0"], "--context-length"),
    ] as [([String], String)])
    func refused(arguments: [String], option: String) throws {
        let result = try runShimmy(arguments)
        #expect(result.status == 64, "\(arguments): status \(result.status), \(result.stderr)")
        #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(option), "\(arguments): \(result.stderr)")
        #expect(!result.stderr.contains("Missing value"), "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains("Usage: shimmy \(arguments[0])"), "\(arguments): \(result.stderr)")
    }

    @Test("the API's special values: --seed -1 is a random seed, --repeat-penalty 0 is off (as 1)")
    func specialValues() throws {
        let base = ["generate", "--prompt", "The capital of France is", "--max-tokens", "4"]
        let random = try runShimmy(base + ["--seed", "-1"])
        #expect(random.status == 0, "\(random.stderr)")
        let off = try runShimmy(base + ["--temperature", "0", "--repeat-penalty", "0"])
        let one = try runShimmy(base + ["--temperature", "0", "--repeat-penalty", "1"])
        #expect(off.status == 0 && !off.stdout.isEmpty && off.stdout == one.stdout, "\(off.stdout) \(off.stderr) / \(one.stdout)")
    }

    @Test("a context longer than the model's trained one runs, with a warning as llama.cpp gives")
    func aboveTrainedContext() throws {
        let base = ["generate", "--prompt", "Hi", "--max-tokens", "1"]
        let above = try runShimmy(base + ["--ctx", "8193"])
        #expect(above.status == 0 && above.stderr.contains("warning: a context of 8193 tokens is longer than the 8192"),
                "\(above.stderr)")
        let within = try runShimmy(base + ["--ctx", "8192"])
        #expect(within.status == 0 && within.stderr.isEmpty, "\(within.stderr)")
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
