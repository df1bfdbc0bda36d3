import KaiwaCore
import Synchronization

/// Decides whether a subject may start a reply now (limits on replies at once and tokens a
/// day live behind it). The runner asks before anything is stored, and hands the pass back,
/// with the reply's usage, when the reply ends.
public protocol ReplyGate: Sendable {
    /// A pass for one reply (`nil` when no limit applies to the subject), or a `KaiwaError`
    /// (429) saying why not and when to try again.
    func admitReply(_ subject: Subject) async throws -> ReplyPass?
}

/// What a reply holds while it runs; `finish` gives it back with the reply's token usage.
/// Only the first `finish` counts (the runner gives it back before the reply's last event, and
/// again, to be sure, when the reply's task ends).
public final class ReplyPass: Sendable {
    private let giveBack: @Sendable (_ usage: TokenUsage?) async -> Void
    private let finished = Mutex(false)

    public init(finish: @escaping @Sendable (_ usage: TokenUsage?) async -> Void) {
        self.giveBack = finish
    }

    public func finish(_ usage: TokenUsage?) async {
        let first = finished.withLock { finished in
            defer { finished = true }
            return !finished
        }
        if first { await giveBack(usage) }
    }
}
