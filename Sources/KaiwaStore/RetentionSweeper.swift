import Foundation
import KaiwaCore
import Logging
import ServiceLifecycle

/// Deletes history older than the retention period, and connections and reply events whose
/// time is up, on a schedule, for as long as the server runs (seed 002 keeps chat history for
/// 7 days and connection records for a day).
public struct RetentionSweeper: Service {
    public let store: any ChatStore
    public let retention: Duration
    public let interval: Duration
    public let clock: any WallClock
    public let logger: Logger

    public init(store: any ChatStore, retention: Duration, interval: Duration, clock: any WallClock, logger: Logger) {
        self.store = store
        self.retention = retention
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    /// Sweeps once: everything older than now minus the retention period.
    @discardableResult
    public func sweepOnce() async throws -> SweepResult {
        let now = clock.now()
        let result = try await store.sweep(before: now.addingTimeInterval(-retention.seconds))
        let transient = try await store.sweepExpired(now: now)
        if result.sessions > 0 || result.messages > 0 || transient > 0 {
            logger.info(
                "Retention sweep",
                metadata: ["sessions": "\(result.sessions)", "messages": "\(result.messages)", "expired_records": "\(transient)"]
            )
        }
        return result
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await sweepOnce()
            } catch {
                logger.error("Retention sweep failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
