import Foundation
import KaiwaCore

/// An open WebSocket connection (seed 002's `Connections` table), kept for a day at most.
public struct ConnectionRecord: Sendable, Hashable {
    public var id: String
    /// The conversation the connection last talked in.
    public var sessionID: SessionID?
    public var createdAt: Date
    public var expiresAt: Date

    public init(id: String, sessionID: SessionID? = nil, createdAt: Date, expiresAt: Date) {
        self.id = id
        self.sessionID = sessionID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Some consecutive events of one reply, kept so that a client (on any instance) can resume
/// the reply's stream until `expiresAt`.
public struct ReplyEventBatch: Sendable, Hashable {
    public var sessionID: SessionID
    public var replyID: String
    public var events: [SequencedChatEvent]
    public var createdAt: Date
    public var expiresAt: Date

    public init(sessionID: SessionID, replyID: String, events: [SequencedChatEvent], createdAt: Date, expiresAt: Date) {
        self.sessionID = sessionID
        self.replyID = replyID
        self.events = events
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// The stored events of a session's latest reply.
public struct StoredReplyEvents: Sendable, Hashable {
    public var replyID: String
    /// The events after the sequence asked for (all of them when it was 0).
    public var events: [SequencedChatEvent]
    /// Whether the reply's last event is stored, also when it is not among `events` because
    /// the reader has already seen it.
    public var isFinished: Bool

    /// - Parameter allEvents: every stored event of the reply, in order; `events` are those after `sequence`.
    public init(replyID: String, allEvents: [SequencedChatEvent], after sequence: Int) {
        self.replyID = replyID
        self.events = allEvents.filter { $0.sequence > sequence }
        self.isFinished = allEvents.last?.event.isTerminal == true
    }
}

/// Short-lived data: connections and reply events. Part of every `ChatStore`.
public protocol TransientStore: Sendable {
    /// Stores or replaces a connection record.
    func saveConnection(_ connection: ConnectionRecord) async throws
    func connection(_ id: String) async throws -> ConnectionRecord?
    func deleteConnection(_ id: String) async throws

    /// Stores batches of reply events (one write for all of them where the store can).
    func appendReplyEvents(_ batches: [ReplyEventBatch]) async throws
    /// The events after `sequence` of the session's latest stored reply, `nil` when none is stored.
    func replyEvents(in session: SessionID, after sequence: Int) async throws -> StoredReplyEvents?

    /// Records that someone asked the session's reply `replyID` to stop. The instance running
    /// the reply may be another one: it looks for such requests while the reply runs.
    func requestStop(ofReply replyID: String, in session: SessionID, expiresAt: Date) async throws
    /// Whether a stop was requested for the session's reply `replyID`.
    func isStopRequested(ofReply replyID: String, in session: SessionID) async throws -> Bool

    /// Whether other server instances may use this store at the same time (DynamoDB). Replies
    /// claim their sessions only in such a store; one instance keeps order in memory.
    var isSharedAcrossInstances: Bool { get }

    /// Claims the session for the reply `replyID` until `until`: one reply at a time per
    /// session, whichever instance runs it. `false` when another reply holds a claim that has
    /// not run out by `now`. Claiming again with the same reply extends the claim.
    func claimSession(_ session: SessionID, forReply replyID: String, until: Date, now: Date) async throws -> Bool
    /// Ends the reply's claim on the session (nothing when another reply holds it).
    func releaseSession(_ session: SessionID, fromReply replyID: String) async throws
    /// Whether the reply `replyID` holds a claim on the session that has not run out by `now`:
    /// in a store shared across instances, whether the reply is still running somewhere.
    func isSessionClaimed(_ session: SessionID, byReply replyID: String, now: Date) async throws -> Bool

    /// Deletes connections, reply events and stop requests whose time is up; returns how many.
    func sweepExpired(now: Date) async throws -> Int
}

extension TransientStore {
    public var isSharedAcrossInstances: Bool { false }
}
