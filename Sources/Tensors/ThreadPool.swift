#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A persistent pool of worker threads with a low-overhead fork/join (spin, then park).
///
/// Dispatching work to threads that are still spinning costs a few microseconds; waking a parked thread costs
/// 40-60 µs on a VM, so workers spin for `spinMicroseconds` after each job before they park on a condition variable.
/// One pool per process is typical (`ThreadPool.shared`); `run` calls from different threads are serialised by a
/// mutex, so many sessions can share one pool. A `run` called from inside a job of the same pool runs inline on the
/// calling thread as `body(0, 1)` instead of deadlocking.
///
/// ```swift
/// let pool = ThreadPool(threadCount: 2)
/// pool.run { index, count in print("thread \(index) of \(count)") }
/// ```
public final class ThreadPool: @unchecked Sendable {
    /// Total threads taking part in a `run`, the calling thread included.
    public let threadCount: Int
    private let state: PoolState
    private let runLock = Mutex<Void>(())

    /// The process-wide pool: one thread per core this process may run on (`sched_getaffinity`), or the value of the
    /// environment variable `SHIMMY_THREADS` when it is a positive integer.
    public static let shared: ThreadPool = ThreadPool(threadCount: CPUInfo.defaultThreadCount)

    /// Starts `threadCount - 1` worker threads (the thread that calls `run` is the first of `threadCount`).
    /// Values below 1 are treated as 1. `spinMicroseconds` is how long an idle worker spins before it parks.
    public init(threadCount: Int, spinMicroseconds: Int = 2_000) {
        let count = max(1, threadCount)
        self.threadCount = count
        self.state = PoolState(workers: count - 1, spinNanoseconds: max(0, spinMicroseconds) * 1_000)
        state.start()
    }

    deinit {
        state.stop()
    }

    /// Runs `body(threadIndex, threadCount)` on every thread of the pool (the caller is thread 0) and returns when
    /// all have finished. Calls from different threads are serialised; a nested call from inside a job runs
    /// `body(0, 1)` inline.
    public func run(_ body: (Int, Int) -> Void) {
        run(threads: threadCount, body)
    }

    /// Like `run(_:)`, but only the first `threads` threads (clamped to 1...threadCount) execute `body`,
    /// which then receives `threads` as its thread count.
    public func run(threads: Int, _ body: (Int, Int) -> Void) {
        let active = min(max(1, threads), threadCount)
        if active == 1 || state.isInsideJob() {
            body(0, 1)
            return
        }
        runLock.withLock { _ in
            withoutActuallyEscaping(body) { escapable in
                state.dispatch(escapable, active: active)
            }
        }
    }
}

/// The state shared by a pool and its workers (workers keep this alive, not the pool, so the pool can stop them).
final class PoolState: @unchecked Sendable {
    let workers: Int
    let spinNanoseconds: Int
    /// Bumped once per job; workers wait for it to change. Odd/even carries no meaning.
    let generation = Atomic<Int>(0)
    /// Workers that have not yet finished the current job.
    let remaining = Atomic<Int>(0)
    /// Workers parked (or about to park) on `condition`.
    let sleepers = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    /// The thread id of the caller currently inside `dispatch` (0 when none).
    let owner = Atomic<UInt>(0)
    /// Written by the caller before `generation` is bumped, read by workers after they see the bump.
    var job: ((Int, Int) -> Void)?
    var activeThreads = 1
    var threadIDs: [pthread_t] = []
    let mutex: UnsafeMutablePointer<pthread_mutex_t>
    let condition: UnsafeMutablePointer<pthread_cond_t>

    init(workers: Int, spinNanoseconds: Int) {
        self.workers = workers
        self.spinNanoseconds = spinNanoseconds
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
        for index in 1...max(1, workers) where index <= workers {
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
            } else {
                Unmanaged<WorkerStart>.fromOpaque(box).release()
            }
        }
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
        let me = UInt(bitPattern: Int(bitPattern: UInt(pthread_self())))
        if owner.load(ordering: .acquiring) == me { return true }
        return threadIDs.contains { pthread_equal($0, pthread_self()) != 0 }
    }

    func dispatch(_ body: @escaping (Int, Int) -> Void, active: Int) {
        let started = threadIDs.count
        owner.store(UInt(pthread_self()), ordering: .releasing)
        job = body
        activeThreads = active
        remaining.store(started, ordering: .relaxed)
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
        body(0, active)
        // Workers beyond the ones that started (thread creation failed) never run: do their share here.
        if started + 1 < active {
            for index in (started + 1)..<active { body(index, active) }
        }
        var spins = 0
        while remaining.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins & 0xFFF == 0 { sched_yield() }
        }
        job = nil
        owner.store(0, ordering: .releasing)
    }

    @inline(never)
    func runJob(index: Int) {
        guard let body = job else { return }
        let active = activeThreads
        if index < active { body(index, active) }
    }

    func workerLoop(index: Int) {
        // Jobs are counted from 0 (the value when the pool was made), not from whatever the worker sees when it
        // first runs: a job or a stop dispatched before this thread got going must not be missed.
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
            runJob(index: index)
            remaining.subtract(1, ordering: .releasing)
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
