import Synchronization
import Testing
@testable import Tensors

@Suite("KernelContext")
struct KernelContextTests {
    @Test("parallelFor covers every index exactly once with contiguous ranges", arguments: [0, 1, 2, 5, 1000])
    func parallelForCoverage(count: Int) {
        let pool = ThreadPool(threadCount: 2)
        let context = KernelContext(pool: pool)
        let hits = Mutex<[Int]>(Array(repeating: 0, count: count))
        let ranges = Mutex<[Range<Int>]>([])
        context.parallelFor(count) { range in
            hits.withLock { for i in range { $0[i] += 1 } }
            ranges.withLock { $0.append(range) }
        }
        let counted = hits.withLock { $0 }
        let bad = (0..<count).filter { counted[$0] != 1 }
        #expect(bad.isEmpty, "indices not hit exactly once: \(bad.prefix(10))")
        let sorted = ranges.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
        #expect(sorted.allSatisfy { !$0.isEmpty }, "empty range passed to body: \(sorted)")
        #expect(sorted.count <= 2, "more ranges than threads: \(sorted)")
    }

    @Test("the split depends only on count and thread count")
    func splitIsDeterministic() {
        #expect(KernelContext.split(10, 0, 2) == 0..<5)
        #expect(KernelContext.split(10, 1, 2) == 5..<10)
        #expect(KernelContext.split(7, 2, 3) == 4..<7)
    }

    @Test("threads are clamped to the pool")
    func clamping() {
        let pool = ThreadPool(threadCount: 2)
        #expect(KernelContext(pool: pool, threads: 8).threadCount == 2)
        #expect(KernelContext(pool: pool, threads: 0).threadCount == 1)
        #expect(KernelContext(pool: pool).threadCount == 2)
    }

    @Test("CPU info: cpuinfo flags, vendor, core ids and the allowed-CPU mask are parsed")
    func cpuInfoParsing() {
        let text = """
        processor\t: 0
        vendor_id\t: AuthenticAMD
        model name\t: Test CPU
        physical id\t: 0
        core id\t\t: 0
        flags\t\t: fpu avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni
        processor\t: 1
        physical id\t: 0
        core id\t\t: 0
        flags\t\t: fpu avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni
        """
        let parsed = CPUInfo.parseProcCPUInfo(text)
        #expect(parsed.features == ["avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni"])
        #expect(parsed.modelName == "Test CPU")
        #expect(parsed.vendor == "AuthenticAMD")
        #expect(CPUInfo.parseProcCPUInfo("processor\t: 0\n").vendor == "unknown")
        #expect(FloatTiles.preferred(vendor: parsed.vendor) == .tiles4x4)
        #expect(FloatTiles.preferred(vendor: "GenuineIntel") == .blocks2x8)
        #expect(FloatTiles.preferred(vendor: "unknown") == .blocks2x8)
        #expect(FloatTiles.preferred(vendor: "HygonGenuine") == .tiles4x4)
        #expect(FloatTiles.preferred(vendor: "GenuineIntel", setting: "4x4") == .tiles4x4)
        #expect(FloatTiles.preferred(vendor: "AuthenticAMD", setting: "2x8") == .blocks2x8)
        #expect(FloatTiles.preferred(vendor: "AuthenticAMD", setting: "8x8") == .tiles4x4)
        #expect(FloatTiles(name: "2x8") == .blocks2x8 && FloatTiles(name: "4x4") == .tiles4x4 && FloatTiles(name: "") == nil)
        #expect(parsed.physicalCores == 1)
        #expect(CPUInfo.allowedCPUCount(status: "Name:\tx\nCpus_allowed:\tff,00000003\n") == 10)
        #expect(CPUInfo.allowedCPUCount(status: "Name:\tx\n") == nil)
    }

    @Test("CPU info of this machine is consistent")
    func cpuInfoCurrent() {
        let info = CPUInfo.current
        #expect(info.logicalCores >= 1)
        #expect(info.physicalCores >= 1)
        #expect(info.numaNodes >= 1)
        #expect(!info.blasCoreName.isEmpty)
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        #expect(CPUInfo.vendorID == CPUInfo.parseProcCPUInfo(cpuinfo).vendor)
        #expect(KernelContext(pool: ThreadPool(threadCount: 1)).floatTiles == FloatTiles.preferred)
        #expect(CPUInfo.defaultThreadCount >= 1)
    }
}
