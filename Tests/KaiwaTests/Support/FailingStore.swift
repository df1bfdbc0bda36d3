import Foundation
import KaiwaCore
import KaiwaStore

/// A store whose database is gone: every call throws.
struct FailingStore: ChatStore {
    struct Unreachable: Error {}
    var kind: String { "sqlite" }
    func checkHealth() async throws { throw Unreachable() }
    func openSession(_ session: SessionRecord, appending messages: [NewMessage]) async throws -> (session: SessionRecord, messages: [MessageRecord]) {
        throw Unreachable()
    }
    func session(_ id: SessionID) async throws -> SessionRecord? { throw Unreachable() }
    func listSessions(owner: String?, limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord] { throw Unreachable() }
    func deleteSession(_ id: SessionID, owner: String?) async throws -> Bool { throw Unreachable() }
    func listAllSessions(limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord] { throw Unreachable() }
    func renameSession(_ id: SessionID, owner: String?, title: String) async throws -> SessionRecord? { throw Unreachable() }
    func searchSessions(owner: String?, matching query: String, limit: Int) async throws -> [SessionSearchHit] { throw Unreachable() }
    func saveAttachment(_ record: AttachmentRecord, chunks: @escaping AttachmentChunks) async throws { throw Unreachable() }
    func attachmentRecord(_ id: String, owner: String?) async throws -> AttachmentRecord? { throw Unreachable() }
    func attachmentData(_ id: String, owner: String?) async throws -> Data? { throw Unreachable() }
    func setCurrentLeaf(_ leaf: Int, of session: SessionID, owner: String?) async throws -> SessionRecord? { throw Unreachable() }
    func appendMessages(_ messages: [NewMessage], to session: SessionID, replyEvents: [ReplyEventBatch]) async throws -> [MessageRecord] {
        throw Unreachable()
    }
    func messages(in session: SessionID) async throws -> [MessageRecord] { throw Unreachable() }
    func messages(in session: SessionID, before sequence: Int?, limit: Int) async throws -> [MessageRecord] { throw Unreachable() }
    func sweep(before cutoff: Date) async throws -> SweepResult { throw Unreachable() }
}

extension FailingStore {
    func saveConnection(_ connection: ConnectionRecord) async throws { throw Unreachable() }
    func connection(_ id: String) async throws -> ConnectionRecord? { throw Unreachable() }
    func deleteConnection(_ id: String) async throws { throw Unreachable() }
    func appendReplyEvents(_ batches: [ReplyEventBatch]) async throws { throw Unreachable() }
    func replyEvents(in session: SessionID, after sequence: Int) async throws -> StoredReplyEvents? { throw Unreachable() }
    func requestStop(ofReply replyID: String, in session: SessionID, expiresAt: Date) async throws { throw Unreachable() }
    func isStopRequested(ofReply replyID: String, in session: SessionID) async throws -> Bool { throw Unreachable() }
    func claimSession(_ session: SessionID, forReply replyID: String, until: Date, now: Date) async throws -> Bool { throw Unreachable() }
    func releaseSession(_ session: SessionID, fromReply replyID: String) async throws { throw Unreachable() }
    func isSessionClaimed(_ session: SessionID, byReply replyID: String, now: Date) async throws -> Bool { throw Unreachable() }
    func sweepExpired(now: Date) async throws -> Int { throw Unreachable() }
}

extension FailingStore {
    func saveAPIKey(_ key: APIKeyRecord) async throws { throw Unreachable() }
    func apiKey(id: String) async throws -> APIKeyRecord? { throw Unreachable() }
    func apiKeys(user: String?) async throws -> [APIKeyRecord] { throw Unreachable() }
    func revokeAPIKey(id: String, at: Date) async throws -> Bool { throw Unreachable() }
    func touchAPIKey(id: String, at: Date) async throws { throw Unreachable() }
    func saveTicket(_ ticket: TicketRecord) async throws { throw Unreachable() }
    func redeemTicket(hash: String, now: Date) async throws -> TicketRecord? { throw Unreachable() }
    func takeToken(from key: String, capacity: Int, refillPerSecond: Double, now: Date) async throws -> BucketDecision { throw Unreachable() }
    func addToCounter(_ key: String, amount: Int, expiresAt: Date) async throws -> Int { throw Unreachable() }
    func counter(_ key: String, now: Date) async throws -> Int { throw Unreachable() }
    func claimSlot(_ key: String, limit: Int, holder: String, until: Date, now: Date) async throws -> Int? { throw Unreachable() }
    func releaseSlot(_ key: String, index: Int, holder: String) async throws { throw Unreachable() }
    func slotsTaken(_ key: String, limit: Int, now: Date) async throws -> Int { throw Unreachable() }
}
