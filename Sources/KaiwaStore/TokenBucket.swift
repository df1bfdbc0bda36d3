import Foundation

/// The token-bucket arithmetic every store shares: a bucket holds at most `capacity` tokens,
/// gains `refillPerSecond`, and a request takes one.
public enum TokenBucket {
    public struct Outcome: Sendable {
        /// What the bucket holds after this request.
        public var tokens: Double
        public var updatedAt: Date
        public var decision: BucketDecision
    }

    /// The bucket after a request at `now`, given what it held at `updatedAt`. A clock that
    /// went backwards (another instance's) refills nothing.
    public static func take(tokens: Double, updatedAt: Date, capacity: Int, refillPerSecond: Double, now: Date) -> Outcome {
        let elapsed = max(0, now.timeIntervalSince(updatedAt))
        let available = min(Double(capacity), tokens + elapsed * refillPerSecond)
        let at = max(now, updatedAt)
        if available >= 1 {
            return Outcome(tokens: available - 1, updatedAt: at, decision: .allowed)
        }
        let wait = refillPerSecond > 0 ? (1 - available) / refillPerSecond : .infinity
        return Outcome(tokens: available, updatedAt: at, decision: .denied(retryAfter: wait))
    }
}
