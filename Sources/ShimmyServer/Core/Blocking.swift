import Foundation
import Shimmy

/// Runs async work from a connection thread and waits for it. Connection threads are plain threads, so
/// blocking them does not starve Swift's cooperative pool.
func blockingAwait<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
    try blockingAwait(abandoned: { false }, operation)
}

/// `blockingAwait` that polls `abandoned` every 50 ms while it waits: when it turns true the task is cancelled and
/// waited for (an engine stops within a layer; at most `cancelWait` seconds, as a generation's), then it throws
/// `GenerationInterruption.clientGone`.
func blockingAwait<T: Sendable>(abandoned: () -> Bool, cancelWait: Double = 30,
                                _ operation: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    let task = Task(executorPreference: ServerExecutor.shared) {
        do { box.set(.success(try await operation())) } catch { box.set(.failure(error)) }
        done.signal()
    }
    while done.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
        if abandoned() {
            task.cancel()
            _ = done.wait(timeout: .now() + cancelWait)
            throw GenerationInterruption.clientGone
        }
    }
    guard let result = box.get() else {
        throw ShimmyError(.serverError, "Async operation ended without a result")
    }
    return try result.get()
}

final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<T, Error>?
    func set(_ value: Result<T, Error>) { lock.withLock { result = value } }
    func get() -> Result<T, Error>? { lock.withLock { result } }
}
