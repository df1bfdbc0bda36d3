import Foundation
import KaiwaCore

/// Where conversations are kept. Implementations: SQLite (the default), in memory (tests),
/// and later DynamoDB. All of them pass the same contract test suite.
///
/// Stores hold data; they do not decide policy. Idle expiry and titles are the chat
/// service's business, retention is the sweeper's.
public protocol ChatStore: TransientStore {
    /// A short name for `/health`: `sqlite`, `memory`, …
    var kind: String { get }

    /// Throws when the store cannot be used (file unreadable, database unreachable).
    func checkHealth() async throws

    /// Stores `session` unless a session with its id exists, then appends `messages` to it,
    /// in one atomic write. Returns the stored session (the existing one when there was one)
    /// and the stored messages.
    func openSession(_ session: SessionRecord, appending messages: [NewMessage]) async throws -> (session: SessionRecord, messages: [MessageRecord])

    func session(_ id: SessionID) async throws -> SessionRecord?

    /// Sessions, most recently updated first. `owner: nil` lists every session.
    func listSessions(owner: String?, limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord]

    /// Deletes a session and its messages; `false` when there was no such session.
    func deleteSession(_ id: SessionID) async throws -> Bool

    /// Appends messages after the session's last one and moves the session's `updatedAt`
    /// to the last message's time; stores `replyEvents` in the same write. Concurrent appends to
    /// one session get distinct, increasing positions. Throws `KaiwaError.notFound` when the
    /// session does not exist.
    func appendMessages(_ messages: [NewMessage], to session: SessionID, replyEvents: [ReplyEventBatch]) async throws -> [MessageRecord]

    /// The session's messages in order.
    func messages(in session: SessionID) async throws -> [MessageRecord]

    /// Deletes messages created before `cutoff`, and sessions not updated since `cutoff`.
    func sweep(before cutoff: Date) async throws -> SweepResult
}

extension ChatStore {
    /// Stores `session` unless a session with its id exists; returns the stored one either way.
    public func createSessionIfAbsent(_ session: SessionRecord) async throws -> SessionRecord {
        try await openSession(session, appending: []).session
    }

    public func appendMessage(_ message: NewMessage, to session: SessionID) async throws -> MessageRecord {
        try await appendMessages([message], to: session, replyEvents: [])[0]
    }
}

extension KaiwaError {
    static func sessionNotFound(_ id: SessionID) -> KaiwaError {
        .notFound("There is no session \(id).")
    }
}
