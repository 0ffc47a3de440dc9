import Foundation
import Shimmy
import Tensors
import ShimmyTestSupport
import Testing

@Suite("SystemInfo")
struct ModelRegistrySystemInfoTests {
    @Test("meminfo: MemTotal and MemAvailable in bytes")
    func meminfo() {
        let text = """
            MemTotal:       24684092 kB
            MemFree:         1000000 kB
            MemAvailable:   23120124 kB
            Buffers:          123456 kB
            """
        let parsed = SystemInfo.parseMeminfo(text)
        #expect(parsed.total == 24_684_092 * 1024)
        #expect(parsed.available == 23_120_124 * 1024)
        let empty = SystemInfo.parseMeminfo("garbage\nMemTotal: lots kB\n")
        #expect(empty.total == 0 && empty.available == 0)
    }

    @Test("os-release: PRETTY_NAME, else NAME, quotes removed")
    func osRelease() {
        #expect(SystemInfo.parseOSRelease("NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")
                == "Debian GNU/Linux 12 (bookworm)")
        #expect(SystemInfo.parseOSRelease("NAME='Alpine Linux'\nID=alpine") == "Alpine Linux")
        #expect(SystemInfo.parseOSRelease("ID=x") == nil)
    }

    @Test("CPU lists as ranges; the NUMA and pinning lines")
    func cpuText() {
        #expect(SystemInfo.cpuListText([]) == "")
        #expect(SystemInfo.cpuListText([5]) == "5")
        #expect(SystemInfo.cpuListText([0, 1, 2, 3, 8, 10, 11]) == "0-3,8,10-11")
        var info = SystemInfo.current(environment: ["SHIMMY_THREADS": "4", "SHIMMY_PIN_THREADS": "1"])
        #expect(info.defaultThreads == 4, "the thread count comes from the environment given")
        info.cpusByNumaNode = [NUMANodeCPUs(node: 0, cpus: [0, 1, 2]), NUMANodeCPUs(node: 2, cpus: [8])]
        #expect(info.numaNodesText == "node 0: CPUs 0-2; node 2: CPU 8")
        info.pinnedWorkers = [8, 1]
        #expect(info.pinningText == "2 worker threads on CPUs 8,1, 1 more unpinned, the calling thread unpinned (SHIMMY_PIN_THREADS)")
        info.pinnedWorkers = nil
        #expect(info.pinningText.hasPrefix("off"))
        let pinned = SystemInfo.current(environment: ["SHIMMY_THREADS": "2", "SHIMMY_PIN_THREADS": "yes"])
        #expect(pinned.pinnedWorkers?.count == ((pinned.cpusByNumaNode ?? []).flatMap(\.cpus).count > 1 ? 1 : 0))
        #expect(SystemInfo.current(environment: ["SHIMMY_PIN_THREADS": "no"]).pinnedWorkers == nil)
    }

    @Test("current() reports this machine")
    func current() {
        let info = SystemInfo.current(environment: ["SHIMMY_THREADS": "3", "UNRELATED": "x"])
        #expect(info.logicalCores >= 1)
        #expect(info.physicalCores >= 1)
        #expect(info.numaNodes >= 1)
        #expect(info.defaultThreads >= 1)
        #expect(!info.operatingSystem.isEmpty)
        #expect(!info.blasConfig.isEmpty)
        #if os(Linux)
        #expect(info.memoryTotalBytes > 0)
        #expect(info.memoryAvailableBytes > 0 && info.memoryAvailableBytes <= info.memoryTotalBytes)
        #endif
        #expect(info.environment == ["SHIMMY_THREADS": "3"], "only the variables shimmy reads: \(info.environment)")
    }

    @Test("folder status: existence and models per folder")
    func folderStatus() throws {
        let root = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("m")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["a.gguf", "b.gguf"] {
            try Data("GGUF0000".utf8).write(to: folder.appendingPathComponent(name))
        }
        let missing = root.appendingPathComponent("missing").path
        let registry = ModelRegistry(searchPaths: [folder.path, missing])
        let status = registry.folderStatus()
        #expect(status == [ModelFolderStatus(path: folder.path, exists: true, modelCount: 2),
                           ModelFolderStatus(path: missing, exists: false, modelCount: 0)], "got \(status)")
    }
}
