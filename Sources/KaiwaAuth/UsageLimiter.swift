import Foundation
import KaiwaAgent
import KaiwaCore
import KaiwaStore
import Logging

/// Holds each subject to its limits: requests a minute, replies at once and model tokens a
/// day. Its counters live in the store, so instances sharing a store (DynamoDB) share limits.
/// The local user of a server without authentication has no limits.
public struct UsageLimiter: ReplyGate {
    public let catalog: LimitsCatalog
    let store: any ChatStore
    let clock: any WallClock
    /// How long a reply holds its slot at most (a reply whose instance died frees it then).
    let slotLease: TimeInterval
    let logger: Logger

    public init(catalog: LimitsCatalog, store: any ChatStore, clock: any WallClock = SystemWallClock(), slotLease: TimeInterval = 330, logger: Logger = Logger(label: "kaiwa.limits")) {
        self.catalog = catalog
        self.store = store
        self.clock = clock
        self.slotLease = slotLease
        self.logger = logger
    }

    /// Takes a request from the subject's per-minute bucket, or throws `rate_limited`.
    public func admitRequest(_ subject: Subject) async throws {
        guard subject.method != .local else { return }
        let perMinute = catalog.limits(for: subject.id).requestsPerMinute
        guard perMinute > 0 else { return }
        let decision = try await store.takeToken(
            from: "requests#\(subject.id)", capacity: perMinute, refillPerSecond: Double(perMinute) / 60, now: clock.now()
        )
        if case .denied(let wait) = decision {
            let seconds = max(1, Int(min(wait, 86_400).rounded(.up)))
            throw KaiwaError(
                .rateLimited, "Too many requests: \(perMinute) a minute are allowed. Try again in \(seconds) s.", retryAfterSeconds: seconds
            )
        }
    }

    /// Lets a reply start: a free reply slot and tokens left today, or `rate_limited` /
    /// `quota_exceeded`.
    public func admitReply(_ subject: Subject) async throws -> ReplyPass? {
        guard subject.method != .local else { return nil }
        let limits = catalog.limits(for: subject.id)
        guard limits.tokensPerDay > 0 || limits.concurrentReplies > 0 else { return nil }
        let now = clock.now()
        if limits.tokensPerDay > 0 {
            let used = try await store.counter(Self.tokenCounter(subject, now), now: now)
            if used >= limits.tokensPerDay {
                let reset = Self.nextUTCMidnight(after: now)
                throw KaiwaError(
                    .quotaExceeded,
                    "Today's model tokens (\(limits.tokensPerDay)) are used up. They reset at \(Self.format(reset)).",
                    retryAfterSeconds: max(1, Int(reset.timeIntervalSince(now).rounded(.up)))
                )
            }
        }
        var slot: (key: String, index: Int, holder: String)?
        if limits.concurrentReplies > 0 {
            let key = "replies#\(subject.id)"
            let holder = UUIDString.random()
            guard let index = try await store.claimSlot(key, limit: limits.concurrentReplies, holder: holder, until: now.addingTimeInterval(slotLease), now: now)
            else {
                throw KaiwaError(
                    .rateLimited, "\(limits.concurrentReplies) replies are already being written for you. Wait for one to finish.",
                    retryAfterSeconds: 5
                )
            }
            slot = (key, index, holder)
        }
        return ReplyPass { [slot, store, clock, logger] usage in
            if let slot {
                do { try await store.releaseSlot(slot.key, index: slot.index, holder: slot.holder) } catch {
                    logger.warning("Could not free a reply slot", metadata: ["error": "\(error)"])
                }
            }
            if let usage, usage.inputTokens + usage.outputTokens > 0 {
                let now = clock.now()
                do {
                    try await store.addToCounter(
                        Self.tokenCounter(subject, now), amount: usage.inputTokens + usage.outputTokens, expiresAt: now.addingTimeInterval(2 * 86_400)
                    )
                } catch {
                    logger.warning("Could not count a reply's tokens", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// The subject's limits and what they used of them.
    public func usage(of subject: Subject) async throws -> (limits: UsageLimits, tokensToday: Int, repliesRunning: Int) {
        let limits = subject.method == .local ? UsageLimits(requestsPerMinute: 0, concurrentReplies: 0, tokensPerDay: 0) : catalog.limits(for: subject.id)
        let now = clock.now()
        let tokens = try await store.counter(Self.tokenCounter(subject, now), now: now)
        let running = limits.concurrentReplies > 0 ? try await store.slotsTaken("replies#\(subject.id)", limit: limits.concurrentReplies, now: now) : 0
        return (limits, tokens, running)
    }

    static func tokenCounter(_ subject: Subject, _ now: Date) -> String {
        "tokens#\(subject.id)#\(Int(now.timeIntervalSince1970) / 86_400)"
    }

    static func nextUTCMidnight(after date: Date) -> Date {
        Date(timeIntervalSince1970: (floor(date.timeIntervalSince1970 / 86_400) + 1) * 86_400)
    }

    static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
