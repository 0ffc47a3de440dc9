import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The open connections and whether each is between requests, so a graceful shutdown can close the idle ones at
/// once and let the busy ones finish.
///
/// A connection waiting for its next request is idle; it calls `claim` before reading what woke it. The drain
/// half-closes only connections marked idle, under the same lock, so a request is either claimed before the drain
/// (and finishes) or never read (its connection closes without an answer, as an idle keep-alive connection may).
final class ConnectionTracker: @unchecked Sendable {
    private let lock = NSLock()
    /// Open descriptors; true while the connection waits between requests.
    private var idle: [Int32: Bool] = [:]
    private var draining = false

    enum Registration { case admitted, full, stopping }

    /// Adds an accepted connection (busy: its first request is on its way) unless `limit` are open or the server
    /// is stopping.
    func register(_ fd: Int32, limit: Int) -> Registration {
        lock.withLock {
            if draining { return .stopping }
            guard idle.count < limit else { return .full }
            idle[fd] = false
            return .admitted
        }
    }

    /// Forgets a connection; its thread calls this before closing the descriptor.
    func remove(_ fd: Int32) { _ = lock.withLock { idle.removeValue(forKey: fd) } }

    /// The connection waits for its next request; during a drain it is half-closed at once, which wakes its wait.
    func markIdle(_ fd: Int32) {
        lock.withLock {
            idle[fd] = true
            if draining { shutdown(fd, Int32(SHUT_RD)) }
        }
    }

    /// Something arrived on an idle connection: true if it may read and serve it, false when draining (the
    /// connection should close).
    func claim(_ fd: Int32) -> Bool {
        lock.withLock {
            guard !draining else { return false }
            idle[fd] = false
            return true
        }
    }

    /// Whether a graceful shutdown has begun (responses then close their connection).
    var isDraining: Bool { lock.withLock { draining } }

    /// Open connections now.
    var count: Int { lock.withLock { idle.count } }

    /// Starts a graceful shutdown: refuses new connections and half-closes the idle ones.
    func beginDrain() {
        lock.withLock {
            draining = true
            for (fd, isIdle) in idle where isIdle { shutdown(fd, Int32(SHUT_RD)) }
        }
    }

    /// Shuts every open connection down (their threads then close them); later registrations fail.
    func shutdownAll() {
        lock.withLock {
            draining = true
            for fd in idle.keys { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }
}
