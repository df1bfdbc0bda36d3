import Foundation
import KaiwaCore

/// Where conversations are kept. Implementations: SQLite (the default), in memory (tests),
/// and later DynamoDB. All of them pass the same contract test suite.
///
/// Stores hold data; they do not decide policy. Idle expiry and titles are the chat
/// service's business, retention is the sweeper's. Ownership is the exception: a session
/// belongs to the subject that made it, and the store's own writes check it (a condition of
/// the write, not a read before it), so that every transport and every instance enforce it
/// alike. Someone else's session answers exactly like a missing one.
public protocol ChatStore: TransientStore, AccessStore, AttachmentStore {
    /// A short name for `/health`: `sqlite`, `memory`, …
    var kind: String { get }

    /// Throws when the store cannot be used (file unreadable, database unreachable).
    func checkHealth() async throws

    /// Stores `session` unless a session with its id exists, then appends `messages` to it,
    /// in one atomic write. Returns the stored session (the existing one when there was one)
    /// and the stored messages. When a session with the id exists and its owner is not
    /// `session.owner`, throws `KaiwaError.notFound` and writes nothing (the check is part of
    /// the write, so two callers naming one new id at once cannot both get it).
    func openSession(_ session: SessionRecord, appending messages: [NewMessage]) async throws -> (session: SessionRecord, messages: [MessageRecord])

    func session(_ id: SessionID) async throws -> SessionRecord?

    /// The owner's sessions, most recently updated first. `owner: nil` lists the sessions
    /// that have no owner (the local user's, when authentication is off).
    func listSessions(owner: String?, limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord]

    /// Every owner's sessions, most recently updated first: for moving conversations between
    /// stores (`kaiwa export`), never for a user.
    func listAllSessions(limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord]

    /// Gives the session a new title if `owner` owns it; `nil` when there is no such session of
    /// that owner (nothing is written then).
    func renameSession(_ id: SessionID, owner: String?, title: String) async throws -> SessionRecord?

    /// The owner's conversations whose title or message text contains `query` (ignoring case),
    /// most recently updated first, at most `limit`. Each store documents how far it looks.
    func searchSessions(owner: String?, matching query: String, limit: Int) async throws -> [SessionSearchHit]

    /// Deletes a session and its messages if `owner` owns it (`nil`: a session without an
    /// owner); `false` when there is no such session of that owner.
    func deleteSession(_ id: SessionID, owner: String?) async throws -> Bool

    /// Appends messages after the session's last one and moves the session's `updatedAt`
    /// to the last message's time and its current leaf to the last message; stores
    /// `replyEvents` in the same write. Each message hangs where its `parent` says (the caller
    /// names parents that exist). Concurrent appends to one session get distinct, increasing
    /// positions. Throws `KaiwaError.notFound` when the session does not exist.
    func appendMessages(_ messages: [NewMessage], to session: SessionID, replyEvents: [ReplyEventBatch]) async throws -> [MessageRecord]

    /// Makes the message at `leaf` the end of the branch the user is on, if `owner` owns the
    /// session; `nil` when there is no such session of that owner. Does not move `updatedAt`.
    func setCurrentLeaf(_ leaf: Int, of session: SessionID, owner: String?) async throws -> SessionRecord?

    /// The session's messages in order, every branch.
    func messages(in session: SessionID) async throws -> [MessageRecord]

    /// The session's last `limit` messages whose position is below `sequence` (all positions
    /// when `nil`), in order: a page of a long conversation, or the recent history a turn reads.
    func messages(in session: SessionID, before sequence: Int?, limit: Int) async throws -> [MessageRecord]

    /// Deletes messages created before `cutoff`, and sessions not updated since `cutoff`.
    func sweep(before cutoff: Date) async throws -> SweepResult
}

extension ChatStore {
    /// The session if `owner` owns it; `nil` when it does not exist or belongs to someone else.
    public func session(_ id: SessionID, ownedBy owner: String?) async throws -> SessionRecord? {
        guard let session = try await session(id), session.owner == owner else { return nil }
        return session
    }

    /// Stores `session` unless a session with its id exists; returns the stored one either way.
    public func createSessionIfAbsent(_ session: SessionRecord) async throws -> SessionRecord {
        try await openSession(session, appending: []).session
    }

    /// The last `limit` messages of the branch that ends at `leaf`, in order: the history a
    /// turn reads. Reads the `limit` positions up to the leaf first, which hold the whole
    /// branch unless the conversation branched inside them; only then the whole conversation.
    public func path(in session: SessionID, to leaf: Int, limit: Int) async throws -> [MessageRecord] {
        guard limit > 0 else { return [] }
        let recent = try await messages(in: session, before: leaf + 1, limit: limit)
        let path = ConversationTree(recent).path(to: leaf)
        // Whole when long enough, when it reached a first message, or when nothing older exists.
        if path.count >= limit || path.first?.parentSequence == nil || recent.count < limit { return Array(path.suffix(limit)) }
        return Array(ConversationTree(try await messages(in: session)).path(to: leaf).suffix(limit))
    }

    public func appendMessage(_ message: NewMessage, to session: SessionID) async throws -> MessageRecord {
        try await appendMessages([message], to: session, replyEvents: [])[0]
    }
}
