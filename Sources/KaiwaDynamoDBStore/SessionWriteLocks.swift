import KaiwaCore

/// One writer at a time per session within this process, first come first served. Across
/// instances the session item's message counter decides (a conditional write); this only
/// keeps one instance's own appends from racing each other and retrying needlessly.
actor SessionWriteLocks {
    private var waiting: [SessionID: [CheckedContinuation<Void, Never>]] = [:]
    private var held: Set<SessionID> = []

    func withLock<T: Sendable>(_ session: SessionID, _ body: @Sendable () async throws -> T) async throws -> T {
        await acquire(session)
        do {
            let result = try await body()
            release(session)
            return result
        } catch {
            release(session)
            throw error
        }
    }

    private func acquire(_ session: SessionID) async {
        guard held.contains(session) else {
            held.insert(session)
            return
        }
        await withCheckedContinuation { waiting[session, default: []].append($0) }
    }

    /// Hands the lock to the next waiter, if any, without letting a newcomer in between.
    private func release(_ session: SessionID) {
        guard var queue = waiting[session], !queue.isEmpty else {
            held.remove(session)
            return
        }
        let next = queue.removeFirst()
        waiting[session] = queue.isEmpty ? nil : queue
        next.resume()
    }
}
