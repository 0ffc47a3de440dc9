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

    /// What `acquire` did.
    public enum Admission: Sendable, Equatable {
        /// A slot is taken: `release()` gives it back.
        case admitted
        /// The queue is full (at once).
        case queueFull
        /// `abandoned` said so while waiting: the place in the queue is given up.
        case abandoned
    }

    /// How often a waiting caller asks `abandoned`.
    static let abandonPoll: TimeInterval = 0.1

    /// Takes a slot, waiting in the queue if needed. A waiting caller asks `abandoned` (the client is gone) every
    /// `abandonPoll` seconds and leaves the queue when it says true.
    public func acquire(abandoned: () -> Bool = { false }) -> Admission {
        condition.lock()
        defer { condition.unlock() }
        if running < parallel {
            running += 1
            return .admitted
        }
        guard waiting < maxQueued else { return .queueFull }
        waiting += 1
        while running >= parallel {
            if !condition.wait(until: Date(timeIntervalSinceNow: Self.abandonPoll)), abandoned() {
                waiting -= 1
                return .abandoned
            }
        }
        waiting -= 1
        running += 1
        return .admitted
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
