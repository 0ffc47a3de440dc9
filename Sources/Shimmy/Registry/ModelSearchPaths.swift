import Foundation

/// Where shimmy looks for models, in order.
///
/// 1. each folder of `SHIMMY_MODEL_PATHS` (colon-separated)
/// 2. `./models`
/// 3. the default model folder: `SHIMMY_MODELS_DIR`, and the `models/` folder that `scripts/setup.sh` fills, found by
///    walking up from the executable's real path to a folder holding `models/SmolLM2-135M-Instruct.Q4_1.gguf`
/// 4. the Hugging Face hub cache (`HF_HUB_CACHE`, `$HF_HOME/hub`, or `~/.cache/huggingface/hub`)
/// 5. Ollama's store (`OLLAMA_MODELS` or `~/.ollama/models`)
public enum ModelSearchPaths {
    /// The file name of the default model that `scripts/setup.sh` installs.
    public static let defaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf"
    /// The name of the default model (its file stem); `default` also reaches it.
    public static let defaultModelName = "SmolLM2-135M-Instruct.Q4_1"

    /// The standard folders, absolute and without duplicates. Folders that do not exist are kept (diagnostics
    /// show them), except a default model folder that could not be found.
    public static func standard(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath,
        executablePath: String? = currentExecutablePath()
    ) -> [String] {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        func absolute(_ path: String) -> String { makeAbsolute(path, home: home, currentDirectory: currentDirectory) }

        var folders: [String] = []
        if let list = environment["SHIMMY_MODEL_PATHS"] {
            folders += list.split(separator: ":").map { absolute(String($0)) }
        }
        folders.append(absolute("models"))
        if let dir = environment["SHIMMY_MODELS_DIR"], !dir.isEmpty { folders.append(absolute(dir)) }
        if let exe = executablePath, let dir = defaultModelFolder(above: exe) { folders.append(dir) }
        if let hub = environment["HF_HUB_CACHE"], !hub.isEmpty {
            folders.append(absolute(hub))
        } else if let hfHome = environment["HF_HOME"], !hfHome.isEmpty {
            folders.append(absolute(hfHome) + "/hub")
        } else {
            let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : absolute($0) } ?? home + "/.cache"
            folders.append(cache + "/huggingface/hub")
        }
        if let ollama = environment["OLLAMA_MODELS"], !ollama.isEmpty {
            folders.append(absolute(ollama))
        } else {
            folders.append(home + "/.ollama/models")
        }
        return unique(folders)
    }

    /// The `models` folder of the first ancestor of `executablePath` (symlinks resolved) that holds the default
    /// model, e.g. `<repo>/models` for `<repo>/.build/release/shimmy`.
    public static func defaultModelFolder(above executablePath: String) -> String? {
        var dir = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        let fm = FileManager.default
        while true {
            let candidate = dir.appendingPathComponent("models")
            if fm.fileExists(atPath: candidate.appendingPathComponent(defaultModelFile).path) {
                return candidate.standardizedFileURL.path
            }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path || dir.path == "/" { return nil }
            dir = parent
        }
    }

    /// The running program's path: `/proc/self/exe` on Linux, else the first argument.
    public static func currentExecutablePath() -> String? {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return target
        }
        return Bundle.main.executablePath ?? CommandLine.arguments.first
    }

    /// `path` made absolute: `~/` expands to `home`, relative paths start at `currentDirectory`; `.` and `..`
    /// are folded.
    static func makeAbsolute(_ path: String, home: String, currentDirectory: String) -> String {
        var p = path
        if p == "~" {
            p = home
        } else if p.hasPrefix("~/") {
            p = home + p.dropFirst(1)
        }
        if !p.hasPrefix("/") { p = currentDirectory + "/" + p }
        return URL(fileURLWithPath: p).standardizedFileURL.path
    }

    static func unique(_ paths: [String]) -> [String] {
        var seen = Set<String>()
        return paths.filter { seen.insert($0).inserted }
    }
}
