import Foundation
import ShimmyTestSupport
import Testing

@Suite("shimmy diag")
struct DiagCommandTests {
    @Test("prints version, OS, CPU, cores, NUMA, BLAS, memory, threads and the model folders")
    func text() throws {
        let root = try RegistryCLIProcess.sandbox(files: ["m/alpha.gguf": 10])
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("m").path
        let result = try RegistryCLIProcess.run(
            ["diag"],
            environment: ["HOME": root.appendingPathComponent("home").path, "SHIMMY_MODEL_PATHS": folder,
                          "SHIMMY_THREADS": "3", "SHIMMY_FLOAT_TILES": "2x8", "SHIMMY_PIN_THREADS": "1"],
            directory: root)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for label in ["Version:", "OS:", "CPU:", "CPU features:", "Cores:", "NUMA nodes:", "BLAS:", "Memory:",
                      "Threads:", "Float prompt tiles:", "Thread pinning:", "Model folders searched"] {
            #expect(result.stdout.contains(label), "missing \(label) in:\n\(result.stdout)")
        }
        #expect(result.stdout.contains("shimmy 1.1.0"))
        #expect(result.stdout.contains("2x8 on blocks of rows (F16 converted once) (F16/F32 batches, SHIMMY_FLOAT_TILES)"),
                "\(result.stdout)")
        #expect(result.stdout.contains("\(folder)  (1 model)"), "stdout:\n\(result.stdout)")
        #expect(result.stdout.contains(root.appendingPathComponent("home").path + "/.ollama/models  (not found)"))
        #expect(result.stdout.contains("Threads:") && result.stdout.contains("3 (SHIMMY_THREADS)"))
        // two workers pinned (the caller is not), each to one of the CPUs the NUMA line lists
        let pinning = result.stdout.split(separator: "\n").first { $0.hasPrefix("Thread pinning:") } ?? ""
        #expect(pinning.contains(" on CPU") && pinning.hasSuffix("the calling thread unpinned (SHIMMY_PIN_THREADS)"),
                "\(pinning)")
        #expect(result.stdout.contains("NUMA nodes:") && result.stdout.contains("(node 0: CPU"), "\(result.stdout)")
    }

    @Test("--json lists each NUMA node's CPUs and the pinned workers' CPUs")
    func jsonPinning() throws {
        let root = try RegistryCLIProcess.sandbox(files: ["m/alpha.gguf": 10])
        defer { try? FileManager.default.removeItem(at: root) }
        for pin in ["yes", "off"] {
            let result = try RegistryCLIProcess.run(
                ["diag", "--json"],
                environment: ["HOME": root.appendingPathComponent("home").path, "SHIMMY_THREADS": "3",
                              "SHIMMY_PIN_THREADS": pin],
                directory: root)
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            let system = object?["system"] as? [String: Any] ?? [:]
            let nodes = system["cpus_by_numa_node"] as? [[String: Any]] ?? []
            let cpus = nodes.flatMap { $0["cpus"] as? [Int] ?? [] }
            // the nodes holding this process's CPUs (a machine may have more, e.g. nodes of memory alone)
            #expect(!nodes.isEmpty && nodes.count <= system["numa_nodes"] as? Int ?? 0, "system: \(system)")
            #expect(cpus.count == system["logical_cores"] as? Int && Set(cpus).count == cpus.count, "system: \(system)")
            let workers = system["pinned_workers"] as? [Int]
            if pin == "yes" {
                // three threads: a CPU for each of the two workers while there are CPUs besides the first
                #expect(workers?.count == min(2, cpus.count - 1) && workers?.allSatisfy(cpus.contains) == true
                        && workers?.contains(cpus[0]) == false, "system: \(system)")
            } else {
                #expect(workers == nil, "system: \(system)")
            }
        }
    }

    @Test("--json has the machine facts and per-folder counts")
    func json() throws {
        let root = try RegistryCLIProcess.sandbox(files: ["m/alpha.gguf": 10, "m/beta.gguf": 10])
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("m").path
        let result = try RegistryCLIProcess.run(
            ["diag", "--json"],
            environment: ["HOME": root.appendingPathComponent("home").path, "SHIMMY_MODEL_PATHS": folder,
                          "SHIMMY_FLOAT_TILES": "8x8"],  // not a plan: the vendor's is taken
            directory: root)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let system = object?["system"] as? [String: Any] ?? [:]
        #expect(object?["version"] as? String == "1.1.0")
        #expect((system["logical_cores"] as? Int ?? 0) >= 1, "system: \(system)")
        #expect((system["numa_nodes"] as? Int ?? 0) >= 1)
        #expect((system["memory_total_bytes"] as? Int ?? 0) > 0)
        #expect((system["blas_config"] as? String ?? "").isEmpty == false)
        #expect(system["cpu_features"] is [String])
        let features = system["cpu_features"] as? [String] ?? []
        let kernels = features.contains("avx512_vnni")
            ? (features.contains("gfni") ? "AVX-512 VNNI, GFNI" : "AVX-512 VNNI") : "portable SIMD"
        #expect(system["quantized_kernels"] as? String == kernels, "system: \(system)")
        let amd = (try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).contains("AuthenticAMD")
        #expect(system["float_prompt_tiles"] as? String == (amd ? "4x4" : "2x8 on blocks of rows (F16 converted once)"))
        let folders = object?["model_folders"] as? [[String: Any]] ?? []
        let mine = folders.first { $0["path"] as? String == folder }
        #expect(mine?["exists"] as? Bool == true, "folders: \(folders)")
        #expect(mine?["model_count"] as? Int == 2)
    }
}
