import GRDB
import Synchronization

/// Runs the writes of concurrent requests together: while one transaction commits, new
/// writes queue up, and the next transaction runs them all (group commit). Each write runs
/// in a savepoint of its own, so one failing write rolls back only itself; every caller
/// hears back only after the transaction holding its write has committed.
///
/// SQLite has one writer; without this, every request pays a queue hop and a commit of its
/// own, and throughput is a few hundred writes per second under load.
final class SQLiteWriteBatcher: Sendable {
    private struct Job: Sendable {
        /// Runs the write; returns what to do once the transaction has committed (or failed).
        let run: @Sendable (Database) -> @Sendable (_ committed: (any Error)?) -> Void
        /// Answers the caller when the write could not even be attempted.
        let fail: @Sendable (any Error) -> Void
    }

    private let pool: DatabasePool
    private let queue = Mutex<(jobs: [Job], draining: Bool)>(([], false))

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Runs `work` in the next group commit; traced as the calling store method.
    func write<T: Sendable>(caller: String = #function, _ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await StoreSpans.sqlite(caller) { try await enqueue(work) }
    }

    private func enqueue<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(run: { db in
                var outcome: Result<T, any Error> = .failure(CancellationError())
                do {
                    try db.inSavepoint {
                        outcome = .success(try work(db))
                        return .commit
                    }
                } catch {
                    outcome = .failure(error)
                }
                let settled = outcome
                return { commitError in
                    if let commitError, case .success = settled {
                        continuation.resume(throwing: SQLiteFailure.translate(commitError))
                    } else {
                        continuation.resume(with: settled.mapError(SQLiteFailure.translate))
                    }
                }
            }, fail: { continuation.resume(throwing: SQLiteFailure.translate($0)) })
            let startDraining = queue.withLock { state in
                state.jobs.append(job)
                defer { state.draining = true }
                return !state.draining
            }
            if startDraining { drain() }
        }
    }

    private func drain() {
        pool.asyncWriteWithoutTransaction { db in
            while true {
                let jobs = self.queue.withLock { state in
                    defer { state.jobs.removeAll() }
                    if state.jobs.isEmpty { state.draining = false }
                    return state.jobs
                }
                if jobs.isEmpty { return }
                var completions: [@Sendable ((any Error)?) -> Void] = []
                do {
                    try db.inTransaction {
                        completions = jobs.map { $0.run(db) }
                        return .commit
                    }
                    completions.forEach { $0(nil) }
                } catch {
                    if completions.count == jobs.count {
                        completions.forEach { $0(error) }
                    } else {
                        jobs.forEach { $0.fail(error) }
                    }
                }
            }
        }
    }
}
