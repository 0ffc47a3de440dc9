import Foundation

/// Admits up to `parallel` generations at once and queues up to `maxQueued` more; callers beyond that are
/// refused so the server can answer 503. Blocking: call it from connection threads, not from async code.
public final class GenerationLimiter: @unchecked Sendable {
    public let parallel: Int
    public let maxQueued: Int
    private let condition = NSCondition()
    private var running = 0
    private var waiting = 0

    public init(parallel: Int, maxQueued: Int) {
        self.parallel = max(1, parallel)
        self.maxQueued = max(0, maxQueued)
    }

    /// Takes a slot, waiting in the queue if needed; false (at once) when the queue is full.
    public func acquire() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if running < parallel {
            running += 1
            return true
        }
        guard waiting < maxQueued else { return false }
        waiting += 1
        while running >= parallel { condition.wait() }
        waiting -= 1
        running += 1
        return true
    }

    /// Gives a slot back.
    public func release() {
        condition.lock()
        running -= 1
        condition.signal()
        condition.unlock()
    }

    /// Generations running now and waiting now.
    public var load: (running: Int, waiting: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (running, waiting)
    }
}
