import Synchronization

/// Tells waiters that a commit happened and which resourceVersion is now durable: what a watch waits
/// on between reads of the change log. A waiter that asks for a version already reached returns at
/// once, so a commit between its read and its wait is never missed.
public final class CommitFeed: Sendable {
    private struct State {
        var version: Int64 = 0
        var waiters: [(id: Int, after: Int64, continuation: CheckedContinuation<Int64, Never>)] = []
        var nextID = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// The newest version published.
    public var latest: Int64 { state.withLock { $0.version } }

    func publish(_ version: Int64) {
        let ready = state.withLock { s -> [CheckedContinuation<Int64, Never>] in
            s.version = max(s.version, version)
            let v = s.version
            let due = s.waiters.filter { $0.after < v }
            s.waiters.removeAll { $0.after < v }
            return due.map(\.continuation)
        }
        let v = latest
        for c in ready { c.resume(returning: v) }
    }

    /// Waits until a version newer than `version` is published, or `timeout` passes; returns the newest
    /// version known (equal to `version` after a timeout). Cancellation ends the wait early.
    public func wait(after version: Int64, timeout: Duration) async -> Int64 {
        if latest > version { return latest }
        let id = state.withLock { s -> Int in s.nextID += 1; return s.nextID }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.expire(id)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Int64, Never>) in
                let resumeNow = state.withLock { s -> Int64? in
                    if s.version > version || Task.isCancelled { return s.version }
                    s.waiters.append((id, version, c))
                    return nil
                }
                if let v = resumeNow { c.resume(returning: v) }
            }
        } onCancel: {
            expire(id)
        }
    }

    private func expire(_ id: Int) {
        let due = state.withLock { s -> (CheckedContinuation<Int64, Never>, Int64)? in
            guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            let w = s.waiters.remove(at: i)
            return (w.continuation, s.version)
        }
        if let (c, v) = due { c.resume(returning: v) }
    }
}
