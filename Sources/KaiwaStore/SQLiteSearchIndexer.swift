import Foundation
import Logging
import ServiceLifecycle

/// Keeps a SQLite store's search index in step with what is written, a batch every `interval`
/// (a search indexes what is still pending itself, so it never misses a message).
public struct SQLiteSearchIndexer: Service {
    public let store: SQLiteChatStore
    public let interval: Duration
    public let logger: Logger

    public init(store: SQLiteChatStore, interval: Duration = .seconds(1), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await store.indexPendingSearchRows()
                failures = 0
            } catch {
                failures += 1
                if failures == 1 || failures % 60 == 0 { logger.warning("Search indexing failed", metadata: ["error": "\(error)"]) }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
