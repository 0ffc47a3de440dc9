#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A persistent pool of worker threads with a low-overhead fork/join (spin, then park).
///
/// Dispatching work to threads that are still spinning costs a few microseconds; waking a parked thread costs
/// 40-60 µs on a VM, so workers spin for `spinMicroseconds` after each job before they park on a condition variable.
/// One pool per process is typical (`ThreadPool.shared`); `run` calls from different threads are serialised by a
/// mutex, so many sessions can share one pool. A `run` called from inside a job of the same pool runs inline on the
/// calling thread as `body(0, 1)` instead of deadlocking.
///
/// Work is claimed, not assigned: `body(index, count)` is called exactly once for each index, by whichever thread
/// takes it first (the caller takes index 0 and keeps taking more). On a busy machine where a worker is not
/// scheduled, the caller simply does its share instead of waiting a scheduler time slice. Indices running at the same
/// time are always distinct, so per-index scratch buffers are safe; a body must not wait for another index
/// (no barriers inside a job).
///
/// ```swift
/// let pool = ThreadPool(threadCount: 2)
/// pool.run { index, count in print("part \(index) of \(count)") }
/// ```
public final class ThreadPool: @unchecked Sendable {
    /// Total threads taking part in a `run`, the calling thread included.
    public let threadCount: Int
    private let state: PoolState
    private let runLock = Mutex<Void>(())

    /// The CPU each pinned worker thread was given (worker i, the i-th thread after the caller, at index i - 1);
    /// empty when the pool does not pin. Workers past the list's end run unpinned.
    public let workerCPUs: [Int]
    /// How many workers of `workerCPUs` the system refused to pin (they run where the system puts them).
    public let refusedPins: Int

    /// The process-wide pool: one thread per core this process may run on (`sched_getaffinity`), or the value of the
    /// environment variable `SHIMMY_THREADS` when it is a positive integer; its workers pinned when
    /// `SHIMMY_PIN_THREADS` is 1 (see `pinsWorkers(environment:)`).
    public static let shared: ThreadPool = ThreadPool(
        threadCount: CPUInfo.defaultThreadCount,
        pinned: pinsWorkers(environment: ProcessInfo.processInfo.environment))

    /// Starts `threadCount - 1` worker threads (the thread that calls `run` is the first of `threadCount`).
    /// Values below 1 are treated as 1. `spinMicroseconds` is how long an idle worker spins before it parks.
    /// With `pinned`, each worker is restricted to a CPU of its own in this process's mask (`workerCPUs`): worker
    /// i takes CPU i of `CPUInfo.pinningOrder`, so the order's first CPU has no worker. The calling thread is not
    /// pinned (it may be any thread of the program); it runs where the system puts it. With more threads than
    /// CPUs, the workers past the last CPU run unpinned rather than two pinned to one CPU. The initializer returns
    /// once the workers have pinned themselves (`refusedPins`).
    public init(threadCount: Int, spinMicroseconds: Int = 2_000, pinned: Bool = false) {
        let count = max(1, threadCount)
        self.threadCount = count
        self.workerCPUs = pinned ? ThreadPool.workerCPUs(threads: count, order: CPUInfo.pinningOrder(
            CPUInfo.cpusByNode(CPUInfo.allowedCPUs()))) : []
        self.state = PoolState(workers: count - 1, spinNanoseconds: max(0, spinMicroseconds) * 1_000,
                               cpus: workerCPUs)
        state.start()
        self.refusedPins = state.awaitPins()
    }

    /// The CPUs of workers 1..<threads when they take CPUs in `order` after the caller, one each: CPUs 1, 2, ... of
    /// the order, as many as there are workers and CPUs (empty for an order of one CPU).
    public static func workerCPUs(threads: Int, order: [Int]) -> [Int] {
        Array(order.dropFirst().prefix(max(0, threads - 1)))
    }

    /// Whether `SHIMMY_PIN_THREADS` asks for pinned workers: `1`, `true`, `yes` or `on` (any case). Unset or any
    /// other value leaves the threads to the system, as llama.cpp and Ollama do by default.
    public static func pinsWorkers(environment: [String: String]) -> Bool {
        guard let value = environment["SHIMMY_PIN_THREADS"] else { return false }
        return ["1", "true", "yes", "on"].contains(value.lowercased())
    }

    deinit {
        state.stop()
    }

    /// Calls `body(index, threadCount)` once for every index in `0..<threadCount`, spread over the pool's threads
    /// (the caller takes part), and returns when all calls have finished. Calls from different threads are
    /// serialised; a nested call from inside a job runs `body(0, 1)` inline.
    public func run(_ body: (Int, Int) -> Void) {
        run(threads: threadCount, body)
    }

    /// Like `run(_:)` with `threads` parts (clamped to 1...threadCount): `body(index, threads)` for each index,
    /// run by the caller and workers 1..<threads only.
    public func run(threads: Int, _ body: (Int, Int) -> Void) {
        let count = min(max(1, threads), threadCount)
        run(tasks: count, threads: count, body)
    }

    /// Calls `body(index, tasks)` once for every index in `0..<tasks` (any number, usually a few per thread for
    /// balance), using the caller and workers 1..<threads (all when nil); returns when all have finished.
    public func run(tasks: Int, threads: Int? = nil, _ body: (Int, Int) -> Void) {
        let participants = min(max(1, threads ?? threadCount), threadCount)
        guard tasks > 0 else { return }
        if state.isInsideJob() {
            body(0, 1)
            return
        }
        if tasks == 1 || participants == 1 {
            for index in 0..<tasks { body(index, tasks) }
            return
        }
        runLock.withLock { _ in
            withoutActuallyEscaping(body) { escapable in
                state.dispatch(escapable, tasks: tasks, participants: participants)
            }
        }
    }
}

/// The state shared by a pool and its workers (workers keep this alive, not the pool, so the pool can stop them).
final class PoolState: @unchecked Sendable {
    let workers: Int
    let spinNanoseconds: Int
    /// The CPU of worker i at index i - 1, when pinned.
    let cpus: [Int]
    /// Pinning results reported by the workers of `cpus`, and the refusals among them.
    let pinsReported = Atomic<Int>(0)
    let pinsRefused = Atomic<Int>(0)
    /// Workers started that have a CPU in `cpus` (set by `start`).
    var pinsExpected = 0
    /// Bumped once per job; idle workers wait for it to change.
    let generation = Atomic<Int>(0)
    /// `generation << 16 | closed << 15 | joined workers`: a worker joins the current job only while it is open;
    /// the caller closes it when no task is left and then waits for the joined workers to finish theirs.
    let ticket = Atomic<Int>(0)
    /// The next task index to claim.
    let nextTask = Atomic<Int>(0)
    /// Workers parked (or about to park) on `condition`.
    let sleepers = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    /// The thread id of the caller currently inside `dispatch` (0 when none).
    let owner = Atomic<UInt>(0)
    /// Written by the caller before `generation` is bumped, read by workers after they join.
    var job: ((Int, Int) -> Void)?
    var taskCount = 0
    /// Workers with an index below this may join the current job (the caller is index 0).
    let participants = Atomic<Int>(0)
    var threadIDs: [pthread_t] = []
    let mutex: UnsafeMutablePointer<pthread_mutex_t>
    let condition: UnsafeMutablePointer<pthread_cond_t>

    static let closedBit = 1 << 15
    static let countMask = (1 << 15) - 1

    init(workers: Int, spinNanoseconds: Int, cpus: [Int] = []) {
        self.workers = workers
        self.spinNanoseconds = spinNanoseconds
        self.cpus = cpus
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    func start() {
        guard workers > 0 else { return }
        for index in 1...workers {
            let box = Unmanaged.passRetained(WorkerStart(state: self, index: index)).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                guard let raw else { return nil }
                let start = Unmanaged<WorkerStart>.fromOpaque(raw).takeRetainedValue()
                start.state.workerLoop(index: start.index)
                return nil
            }, box)
            if rc == 0 {
                threadIDs.append(thread)
                if index - 1 < cpus.count { pinsExpected += 1 }
            } else {
                Unmanaged<WorkerStart>.fromOpaque(box).release()
            }
        }
    }

    /// Waits (at most a second) until every started worker with a CPU has tried to pin itself; returns the refusals.
    func awaitPins() -> Int {
        let deadline = monotonicNanoseconds() + 1_000_000_000
        while pinsReported.load(ordering: .acquiring) < pinsExpected && monotonicNanoseconds() < deadline {
            sched_yield()
        }
        return pinsRefused.load(ordering: .acquiring)
    }

    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        for thread in threadIDs { pthread_join(thread, nil) }
    }

    /// Whether the calling thread is a worker of this pool or the caller of the job in progress.
    func isInsideJob() -> Bool {
        let me = pthread_self()
        if owner.load(ordering: .acquiring) == UInt(me) { return true }
        return threadIDs.contains { pthread_equal($0, me) != 0 }
    }

    func dispatch(_ body: @escaping (Int, Int) -> Void, tasks: Int, participants: Int) {
        owner.store(UInt(pthread_self()), ordering: .releasing)
        job = body
        taskCount = tasks
        self.participants.store(participants, ordering: .relaxed)
        nextTask.store(0, ordering: .relaxed)
        let next = generation.load(ordering: .relaxed) &+ 1
        ticket.store(next << 16, ordering: .releasing)
        generation.store(next, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
        drain(body, tasks)
        // No task is left: close the job to late workers, then wait for the ones that joined.
        ticket.add(PoolState.closedBit, ordering: .acquiringAndReleasing)
        var spins = 0
        while ticket.load(ordering: .acquiring) & PoolState.countMask != 0 {
            spins += 1
            if spins & 0xFFF == 0 { sched_yield() }
        }
        job = nil
        owner.store(0, ordering: .releasing)
    }

    @inline(__always)
    func drain(_ body: (Int, Int) -> Void, _ tasks: Int) {
        while true {
            let index = nextTask.wrappingAdd(1, ordering: .relaxed).oldValue
            if index >= tasks { return }
            body(index, tasks)
        }
    }

    /// Joins the job of generation `seen` if it is still open, runs tasks until none is left, and leaves.
    @inline(never)
    func work(seen: Int, index: Int) {
        // `participants` was written before the generation bump this worker saw, so it belongs to this job
        // (or a later one, which the ticket check below rejects).
        guard index < participants.load(ordering: .relaxed) else { return }
        var value = ticket.load(ordering: .acquiring)
        while true {
            guard value >> 16 == seen, value & PoolState.closedBit == 0 else { return }
            let (exchanged, original) = ticket.compareExchange(expected: value, desired: value &+ 1,
                                                               ordering: .acquiringAndReleasing)
            if exchanged { break }
            value = original
        }
        if let body = job { drain(body, taskCount) }
        ticket.subtract(1, ordering: .releasing)
    }

    func workerLoop(index: Int) {
        if index - 1 < cpus.count {
            if !CPUInfo.pinCurrentThread(toCPU: cpus[index - 1]) { pinsRefused.add(1, ordering: .relaxed) }
            pinsReported.add(1, ordering: .releasing)
        }
        // Jobs are counted from 0 (the value when the pool was made), not from whatever the worker sees when it
        // first runs: a stop issued before this thread got going must not be missed.
        var seen = 0
        while true {
            // Spin until a new job arrives, then park.
            var spins = 0
            var deadline = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins & 0x3FF == 0 {
                    let now = monotonicNanoseconds()
                    if deadline == 0 { deadline = now + spinNanoseconds } else if now >= deadline { park(seen: seen) }
                }
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) { return }
            work(seen: seen, index: index)
        }
    }

    private func park(seen: Int) {
        sleepers.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        while generation.load(ordering: .sequentiallyConsistent) == seen {
            pthread_cond_wait(condition, mutex)
        }
        pthread_mutex_unlock(mutex)
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
    }
}

private final class WorkerStart {
    let state: PoolState
    let index: Int
    init(state: PoolState, index: Int) {
        self.state = state
        self.index = index
    }
}

@inline(__always)
func monotonicNanoseconds() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}
