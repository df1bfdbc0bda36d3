import Foundation
import KaiwaCore
import KaiwaStore

/// A store that takes sessions and user messages but fails every write of a reply: its
/// message and its events (a database that filled up mid-reply).
struct ReplyWriteFailingStore: ChatStore {
    let inner = InMemoryChatStore()
    var kind: String { inner.kind }
    func checkHealth() async throws { try await inner.checkHealth() }
    func openSession(_ session: SessionRecord, appending messages: [NewMessage]) async throws -> (session: SessionRecord, messages: [MessageRecord]) {
        try await inner.openSession(session, appending: messages)
    }
    func session(_ id: SessionID) async throws -> SessionRecord? { try await inner.session(id) }
    func listSessions(owner: String?, limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord] {
        try await inner.listSessions(owner: owner, limit: limit, after: cursor)
    }
    func deleteSession(_ id: SessionID) async throws -> Bool { try await inner.deleteSession(id) }
    func appendMessages(_ messages: [NewMessage], to session: SessionID, replyEvents: [ReplyEventBatch]) async throws -> [MessageRecord] {
        throw FailingStore.Unreachable()
    }
    func messages(in session: SessionID) async throws -> [MessageRecord] { try await inner.messages(in: session) }
    func sweep(before cutoff: Date) async throws -> SweepResult { try await inner.sweep(before: cutoff) }

    func saveConnection(_ connection: ConnectionRecord) async throws { try await inner.saveConnection(connection) }
    func connection(_ id: String) async throws -> ConnectionRecord? { try await inner.connection(id) }
    func deleteConnection(_ id: String) async throws { try await inner.deleteConnection(id) }
    func appendReplyEvents(_ batches: [ReplyEventBatch]) async throws { throw FailingStore.Unreachable() }
    func replyEvents(in session: SessionID, after sequence: Int) async throws -> StoredReplyEvents? {
        try await inner.replyEvents(in: session, after: sequence)
    }
    func requestStop(ofReply replyID: String, in session: SessionID, expiresAt: Date) async throws {
        try await inner.requestStop(ofReply: replyID, in: session, expiresAt: expiresAt)
    }
    func isStopRequested(ofReply replyID: String, in session: SessionID) async throws -> Bool {
        try await inner.isStopRequested(ofReply: replyID, in: session)
    }
    func claimSession(_ session: SessionID, forReply replyID: String, until: Date, now: Date) async throws -> Bool {
        try await inner.claimSession(session, forReply: replyID, until: until, now: now)
    }
    func releaseSession(_ session: SessionID, fromReply replyID: String) async throws {
        try await inner.releaseSession(session, fromReply: replyID)
    }
    func sweepExpired(now: Date) async throws -> Int { try await inner.sweepExpired(now: now) }
}
