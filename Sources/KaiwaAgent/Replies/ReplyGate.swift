import KaiwaCore

/// Decides whether a subject may start a reply now (limits on replies at once and tokens a
/// day live behind it). The runner asks before anything is stored, and hands the pass back,
/// with the reply's usage, when the reply ends.
public protocol ReplyGate: Sendable {
    /// A pass for one reply, or a `KaiwaError` (429) saying why not and when to try again.
    func admitReply(_ subject: Subject) async throws -> ReplyPass
}

/// What a reply holds while it runs; `finish` gives it back with the reply's token usage.
public struct ReplyPass: Sendable {
    public let finish: @Sendable (_ usage: TokenUsage?) async -> Void

    public init(finish: @escaping @Sendable (_ usage: TokenUsage?) async -> Void) {
        self.finish = finish
    }
}
