import Foundation
import Synchronization
import Testing
@testable import Tensors

@Suite("ThreadPool")
struct ThreadPoolTests {
    @Test("run calls the body once per thread index", arguments: [1, 2, 3, 4])
    func everyIndexOnce(threads: Int) {
        let pool = ThreadPool(threadCount: threads)
        #expect(pool.threadCount == threads)
        let counts = Mutex<[Int]>(Array(repeating: 0, count: threads))
        let seenCount = Atomic<Int>(0)
        for _ in 0..<500 {
            pool.run { index, count in
                counts.withLock { $0[index] += 1 }
                if count != threads { seenCount.add(1, ordering: .relaxed) }
            }
        }
        let got = counts.withLock { $0 }
        #expect(got == Array(repeating: 500, count: threads), "per-index calls: \(got)")
        #expect(seenCount.load(ordering: .relaxed) == 0, "body saw a thread count other than \(threads)")
    }

    @Test("run(threads:) uses only the first threads")
    func subsetOfThreads() {
        let pool = ThreadPool(threadCount: 3)
        let calls = Atomic<Int>(0)
        let maxIndex = Atomic<Int>(0)
        pool.run(threads: 2) { index, count in
            calls.add(1, ordering: .relaxed)
            maxIndex.max(index, ordering: .relaxed)
            #expect(count == 2)
        }
        #expect(calls.load(ordering: .relaxed) == 2)
        #expect(maxIndex.load(ordering: .relaxed) == 1)
    }

    @Test("workers that parked are woken for the next job")
    func wakesParkedWorkers() {
        let pool = ThreadPool(threadCount: 2, spinMicroseconds: 0)
        let total = Atomic<Int>(0)
        for round in 0..<20 {
            if round % 5 == 0 { usleep(2_000) }   // long enough for the worker to park
            pool.run { index, _ in total.add(index + 1, ordering: .relaxed) }
        }
        #expect(total.load(ordering: .relaxed) == 20 * 3)
    }

    @Test("a nested run inside a job runs inline instead of deadlocking")
    func nestedRun() {
        let pool = ThreadPool(threadCount: 2)
        let inner = Atomic<Int>(0)
        pool.run { _, _ in
            pool.run { index, count in
                #expect(index == 0 && count == 1, "nested body got (\(index), \(count))")
                inner.add(1, ordering: .relaxed)
            }
        }
        #expect(inner.load(ordering: .relaxed) == 2)
    }

    @Test("two sessions calling run at the same time are serialised and both complete")
    func concurrentCallers() async {
        let pool = ThreadPool(threadCount: 2)
        await withTaskGroup(of: Bool.self) { group in
            for session in 0..<2 {
                group.addTask {
                    let context = KernelContext(pool: pool)
                    for round in 0..<300 {
                        var values = [Int](repeating: -1, count: 1000)
                        values.withUnsafeMutableBufferPointer { buffer in
                            let base = buffer.baseAddress!
                            context.parallelFor(1000) { range in
                                for i in range { base[i] = i * session + round }
                            }
                        }
                        if values != (0..<1000).map({ $0 * session + round }) { return false }
                    }
                    return true
                }
            }
            var results: [Bool] = []
            for await ok in group { results.append(ok) }
            #expect(results == [true, true], "sessions: \(results)")
        }
    }

    @Test("a pool can be released while idle")
    func deinitStopsWorkers() {
        for _ in 0..<10 {
            let pool = ThreadPool(threadCount: 3)
            let n = Atomic<Int>(0)
            pool.run { _, _ in n.add(1, ordering: .relaxed) }
            #expect(n.load(ordering: .relaxed) == 3)
        }
    }
}

@Suite("ThreadPool tasks")
struct ThreadPoolTaskTests {
    @Test("run(tasks:threads:) calls every task once and uses no worker beyond the limit", arguments: [1, 2, 3])
    func tasksWithParticipantLimit(limit: Int) {
        let pool = ThreadPool(threadCount: 3)
        let seen = Mutex<[Int]>([])
        let threadIDs = Mutex<Set<UInt>>([])
        for _ in 0..<200 {
            pool.run(tasks: 10, threads: limit) { index, count in
                #expect(count == 10)
                seen.withLock { $0.append(index) }
                threadIDs.withLock { _ = $0.insert(UInt(pthread_self())) }
            }
        }
        let indices = seen.withLock { $0 }
        let perIndex = Dictionary(grouping: indices, by: { $0 }).mapValues(\.count)
        #expect(perIndex == Dictionary(uniqueKeysWithValues: (0..<10).map { ($0, 200) }), "calls per task: \(perIndex)")
        let used = threadIDs.withLock { $0.count }
        #expect(used <= limit, "\(used) threads ran tasks with a limit of \(limit)")
    }
}

@Suite("ThreadPool pinning")
struct ThreadPoolPinningTests {
    /// The CPUs the calling thread may run on, as a worker of `pool` reads them: tasks that last long enough
    /// that a worker claims one while the caller sleeps in its own.
    static func workerMask(_ pool: ThreadPool) -> [Int]? {
        let caller = UInt(pthread_self())
        let found = Mutex<[Int]?>(nil)
        for _ in 0..<20 where found.withLock({ $0 }) == nil {
            pool.run(tasks: 2) { _, _ in
                if UInt(pthread_self()) != caller {
                    let cpus = CPUInfo.currentThreadCPUs()
                    found.withLock { $0 = cpus }
                } else {
                    usleep(50_000)
                }
            }
        }
        return found.withLock { $0 }
    }

    @Test("a pinned pool's worker runs on its CPU alone; an unpinned one on the process's CPUs; the caller keeps its mask")
    func workersPinned() throws {
        let thread = CPUInfo.currentThreadCPUs(), process = CPUInfo.allowedCPUs()
        #expect(!process.isEmpty && thread == process, "process \(process), this thread \(thread)")
        let expected = ThreadPool.workerCPUs(threads: 2, order: CPUInfo.pinningOrder(CPUInfo.cpusByNode(process)))
        // one CPU leaves no CPU of its own for the worker; CI machines have two or more
        #expect(expected.count == (process.count > 1 ? 1 : 0), "expected \(expected)")
        let pinned = ThreadPool(threadCount: 2, pinned: true)
        #expect(pinned.workerCPUs == expected && pinned.refusedPins == 0, "\(pinned.workerCPUs), \(pinned.refusedPins)")
        let mask = try #require(Self.workerMask(pinned), "no worker took a task")
        #expect(mask == (expected.isEmpty ? process : expected), "worker mask \(mask), expected \(expected)")
        #expect(CPUInfo.currentThreadCPUs() == thread && CPUInfo.allowedCPUs() == process,
                "the caller's or the process's mask changed")

        let free = ThreadPool(threadCount: 2)
        #expect(free.workerCPUs.isEmpty && free.refusedPins == 0)
        let freeMask = try #require(Self.workerMask(free), "no worker took a task")
        #expect(freeMask == process, "unpinned worker mask \(freeMask), process \(process)")
    }

    @Test("pinned threads spread over NUMA nodes, one CPU each, none on the caller's")
    func order() {
        let two = [NUMANodeCPUs(node: 0, cpus: [0, 1, 2, 3]), NUMANodeCPUs(node: 1, cpus: [4, 5, 6, 7])]
        #expect(CPUInfo.pinningOrder(two) == [0, 4, 1, 5, 2, 6, 3, 7])
        let uneven = [NUMANodeCPUs(node: 0, cpus: [0, 1, 2]), NUMANodeCPUs(node: 3, cpus: [8])]
        #expect(CPUInfo.pinningOrder(uneven) == [0, 8, 1, 2])
        #expect(CPUInfo.pinningOrder([NUMANodeCPUs(node: 1, cpus: [3, 5])]) == [3, 5])
        #expect(CPUInfo.pinningOrder([]) == [])
        #expect(ThreadPool.workerCPUs(threads: 3, order: [0, 4, 1, 5]) == [4, 1])
        #expect(ThreadPool.workerCPUs(threads: 4, order: [0, 1]) == [1])  // the third worker runs unpinned
        #expect(ThreadPool.workerCPUs(threads: 1, order: [0, 1]) == [])
        #expect(ThreadPool.workerCPUs(threads: 3, order: [7]) == [])
        #expect(ThreadPool.workerCPUs(threads: 3, order: []) == [])
        // this machine: every CPU of the process's mask on exactly one node, nodes ascending
        let process = CPUInfo.allowedCPUs()
        let nodes = CPUInfo.cpusByNode(process)
        #expect(nodes.flatMap(\.cpus).sorted() == process && nodes.map(\.node) == nodes.map(\.node).sorted(),
                "\(nodes)")
    }

    @Test("SHIMMY_PIN_THREADS pins for 1, true, yes or on only")
    func environment() {
        for value in ["1", "true", "YES", "On"] {
            #expect(ThreadPool.pinsWorkers(environment: ["SHIMMY_PIN_THREADS": value]), "\(value)")
        }
        for value in ["0", "false", "no", "off", "", "2", "cores"] {
            #expect(!ThreadPool.pinsWorkers(environment: ["SHIMMY_PIN_THREADS": value]), "\(value)")
        }
        #expect(!ThreadPool.pinsWorkers(environment: [:]))
    }
}
