import Foundation
import ShimmyTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `shimmy serve` as a child process on a free port.
final class ServeProcess {
    let process = Process()
    private(set) var port = 0

    /// `models` are pinned with `--model` (none: every model found); `environment` is added to this process's.
    init(_ arguments: [String], models: [String] = [TestPaths.defaultModel], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: TestPaths.shimmyBinary)
        process.arguments = ["serve", "--bind", "127.0.0.1:0"] + models.flatMap { ["--model", $0] } + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // "shimmy listening on http://127.0.0.1:PORT"
        var line = ""
        while !line.contains("\n") {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            line += String(decoding: data, as: UTF8.self)
        }
        port = line.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits up to `seconds` for the process to exit; its status, or nil if it is still running.
    func exitStatus(within seconds: Double) -> Int32? {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// A connected socket, or -1.
    func connect() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if status != 0 {
            close(fd)
            return -1
        }
        return fd
    }
}

/// Sends all of `text`.
private func send(_ fd: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n <= 0 { return }
        sent += n
    }
}

/// Reads until the server closes the connection or `seconds` pass.
private func receiveAll(_ fd: Int32, until stop: (String) -> Bool = { _ in false }, seconds: Double = 60) -> String {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    let deadline = Date(timeIntervalSinceNow: seconds)
    while Date() < deadline {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, 100) >= 0 else { break }
        if descriptor.revents == 0 { continue }
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        bytes += buffer[0..<n]
        if stop(String(decoding: bytes, as: UTF8.self)) { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}

@Suite("shimmy serve: signals", .serialized)
struct ServeSignalTests {
    /// Starts a long streamed generation and returns its socket once the first token arrived.
    func startStream(_ server: ServeProcess, maxTokens: Int) throws -> Int32 {
        let fd = server.connect()
        try #require(fd >= 0, "cannot connect to port \(server.port)")
        let body = #"{"model": "default", "prompt": "1, 2, 3, 4, 5, 6,", "max_tokens": \#(maxTokens), "temperature": 0, "stream": true}"#
        send(fd, "POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        let head = receiveAll(fd, until: { $0.contains("data: {") })
        try #require(head.contains("data: {"), "no first token: \(head)")
        return fd
    }

    @Test("SIGTERM lets a stream in progress finish, refuses new connections and exits 0")
    func gracefulTerm() throws {
        let server = try ServeProcess([])
        let fd = try startStream(server, maxTokens: 200)
        defer { close(fd) }
        kill(server.process.processIdentifier, SIGTERM)
        // the listener closes soon after the signal (within 5 s even on a loaded machine), while the stream goes on
        var refused: Int32 = 0
        let deadline = Date(timeIntervalSinceNow: 5)
        while Date() < deadline {
            usleep(50_000)
            refused = server.connect()
            if refused < 0 { break }
            close(refused)
        }
        #expect(refused < 0, "new connections were still accepted 5 s into the shutdown")
        let rest = receiveAll(fd)
        #expect(rest.hasSuffix("data: [DONE]\n\n\r\n0\r\n\r\n"), "the stream was cut: \(rest.suffix(200))")
        #expect(server.exitStatus(within: 30) == 0)
    }

    @Test("SIGTERM right after the listening line stops the server (its handler is in place before the line)")
    func signalAtStart() throws {
        for _ in 0..<5 {
            let server = try ServeProcess([])
            kill(server.process.processIdentifier, SIGTERM)
            #expect(server.exitStatus(within: 10) == 0)
        }
    }

    @Test("a second signal stops at once, cutting the stream")
    func secondSignal() throws {
        let server = try ServeProcess(["--shutdown-timeout", "60", "--context-length", "4096"])
        let fd = try startStream(server, maxTokens: 100_000)
        defer { close(fd) }
        kill(server.process.processIdentifier, SIGINT)
        usleep(200_000)
        #expect(server.process.isRunning, "the first signal stopped the server with a request in progress")
        kill(server.process.processIdentifier, SIGINT)
        #expect(server.exitStatus(within: 5) != nil, "still running 5 s after the second signal")
        #expect(!receiveAll(fd, seconds: 5).contains("[DONE]"))
    }
}

@Suite("shimmy serve: memory", .serialized)
struct ServeMemoryTests {
    /// The process's anonymous resident memory in MiB (`RssAnon`: heap and anonymous maps, not the mapped models).
    func anonymousMiB(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") }, "\(status)")
        let kibibytes = try #require(Int(line.split(separator: " ").dropFirst().first ?? ""), "\(line)")
        return kibibytes / 1024
    }

    @Test("models loaded and let go in turn give their memory back (serve's malloc threshold)")
    func modelChurn() throws {
        let directory = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf").path,
                                                   withDestinationPath: TestPaths.defaultModel)
        for type in ["q4_0", "q8_0"] {
            let made = try runShimmy(["quantize", TestPaths.defaultModel, directory.appendingPathComponent("m-\(type).gguf").path, type])
            try #require(made.status == 0, "\(made.stderr)")
        }
        let server = try ServeProcess(["--max-loaded-models", "1", "--parallel", "2"], models: [],
                                      environment: ["SHIMMY_MODEL_PATHS": directory.path])
        let pid = server.process.processIdentifier
        // two generations at once on `model`, each answered in full
        func generate(_ model: String) throws {
            let body = #"{"model": "\#(model)", "prompt": "The capital of France is", "max_tokens": 4, "temperature": 0}"#
            let sockets = (0..<2).map { _ in server.connect() }
            defer { sockets.forEach { close($0) } }
            for fd in sockets {
                try #require(fd >= 0, "cannot connect")
                send(fd, "POST /api/generate HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            }
            for fd in sockets {
                let answer = receiveAll(fd)
                try #require(answer.hasPrefix("HTTP/1.1 200"), "\(model): \(answer.prefix(300))")
            }
        }
        try generate("default")
        let first = try anonymousMiB(pid)
        for _ in 0..<4 {
            for model in ["m-q4_0", "m-q8_0", "default"] { try generate(model) }
        }
        let after = try anonymousMiB(pid)
        // measured: +19 to +31 MiB with the threshold, +144 MiB without (blocks of evicted models kept in malloc's arenas)
        #expect(after - first < 80, "anonymous memory grew from \(first) to \(after) MiB with only the default model loaded")
    }
}
