import Foundation

/// A task executor on the server's own threads. The tasks that bridge connection threads to async code prefer
/// it, so the server keeps answering even when Swift's cooperative pool is saturated (an engine computing on
/// it, or a test runner blocking its threads).
final class ServerExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0

    /// Starts `threads` worker threads; they live as long as the process.
    init(threads: Int, name: String = "shimmy-executor") {
        for index in 0..<max(1, threads) {
            let thread = Thread { [self] in work() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let job = jobs[head]
            head += 1
            if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    /// One shared instance: its threads are parked when idle, so servers started in tests share them.
    static let shared = ServerExecutor(threads: max(4, ProcessInfo.processInfo.activeProcessorCount + 2))
}
