import Foundation
import KaiwaCore
import KaiwaStore

/// An in-memory store that fails the operations a test names.
struct FaultInjectingStore: ChatStore {
    enum Fault: Sendable, Hashable {
        /// Every write of a reply fails: its message and its events (a database that filled
        /// up mid-reply); sessions and user messages are taken.
        case replyWrites
        /// Reading a session's whole history fails (only pages may be read).
        case wholeHistoryReads
        /// Writing a reply takes half a second (a slow disk).
        case slowReplyWrites
    }

    let faults: Set<Fault>
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
    func deleteSession(_ id: SessionID, owner: String?) async throws -> Bool { try await inner.deleteSession(id, owner: owner) }
    func listAllSessions(limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord] {
        try await inner.listAllSessions(limit: limit, after: cursor)
    }
    func renameSession(_ id: SessionID, owner: String?, title: String) async throws -> SessionRecord? {
        try await inner.renameSession(id, owner: owner, title: title)
    }
    func saveAttachment(_ record: AttachmentRecord, chunks: @escaping AttachmentChunks) async throws {
        try await inner.saveAttachment(record, chunks: chunks)
    }
    func attachmentRecord(_ id: String, owner: String?) async throws -> AttachmentRecord? {
        try await inner.attachmentRecord(id, owner: owner)
    }
    func attachmentData(_ id: String, owner: String?) async throws -> Data? {
        try await inner.attachmentData(id, owner: owner)
    }
    func setCurrentLeaf(_ leaf: Int, of session: SessionID, owner: String?) async throws -> SessionRecord? {
        try await inner.setCurrentLeaf(leaf, of: session, owner: owner)
    }
    func searchSessions(owner: String?, matching query: String, limit: Int) async throws -> [SessionSearchHit] {
        try await inner.searchSessions(owner: owner, matching: query, limit: limit)
    }
    func appendMessages(_ messages: [NewMessage], to session: SessionID, replyEvents: [ReplyEventBatch]) async throws -> [MessageRecord] {
        if faults.contains(.replyWrites) { throw FailingStore.Unreachable() }
        if faults.contains(.slowReplyWrites) { try await Task.sleep(for: .milliseconds(500)) }
        return try await inner.appendMessages(messages, to: session, replyEvents: replyEvents)
    }
    func messages(in session: SessionID) async throws -> [MessageRecord] {
        if faults.contains(.wholeHistoryReads) { throw FailingStore.Unreachable() }
        return try await inner.messages(in: session)
    }
    func messages(in session: SessionID, before sequence: Int?, limit: Int) async throws -> [MessageRecord] {
        try await inner.messages(in: session, before: sequence, limit: limit)
    }
    func sweep(before cutoff: Date) async throws -> SweepResult { try await inner.sweep(before: cutoff) }

    func saveConnection(_ connection: ConnectionRecord) async throws { try await inner.saveConnection(connection) }
    func connection(_ id: String) async throws -> ConnectionRecord? { try await inner.connection(id) }
    func deleteConnection(_ id: String) async throws { try await inner.deleteConnection(id) }
    func appendReplyEvents(_ batches: [ReplyEventBatch]) async throws {
        if faults.contains(.replyWrites) { throw FailingStore.Unreachable() }
        try await inner.appendReplyEvents(batches)
    }
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
    func isSessionClaimed(_ session: SessionID, byReply replyID: String, now: Date) async throws -> Bool {
        try await inner.isSessionClaimed(session, byReply: replyID, now: now)
    }
    func sweepExpired(now: Date) async throws -> Int { try await inner.sweepExpired(now: now) }
}

extension FaultInjectingStore {
    func saveAPIKey(_ key: APIKeyRecord) async throws { try await inner.saveAPIKey(key) }
    func apiKey(id: String) async throws -> APIKeyRecord? { try await inner.apiKey(id: id) }
    func apiKeys(user: String?) async throws -> [APIKeyRecord] { try await inner.apiKeys(user: user) }
    func revokeAPIKey(id: String, at: Date) async throws -> Bool { try await inner.revokeAPIKey(id: id, at: at) }
    func touchAPIKey(id: String, at: Date) async throws { try await inner.touchAPIKey(id: id, at: at) }
    func saveTicket(_ ticket: TicketRecord) async throws { try await inner.saveTicket(ticket) }
    func redeemTicket(hash: String, now: Date) async throws -> TicketRecord? { try await inner.redeemTicket(hash: hash, now: now) }
    func takeToken(from key: String, capacity: Int, refillPerSecond: Double, now: Date) async throws -> BucketDecision {
        try await inner.takeToken(from: key, capacity: capacity, refillPerSecond: refillPerSecond, now: now)
    }
    func addToCounter(_ key: String, amount: Int, expiresAt: Date) async throws -> Int { try await inner.addToCounter(key, amount: amount, expiresAt: expiresAt) }
    func counter(_ key: String, now: Date) async throws -> Int { try await inner.counter(key, now: now) }
    func claimSlot(_ key: String, limit: Int, holder: String, until: Date, now: Date) async throws -> Int? {
        try await inner.claimSlot(key, limit: limit, holder: holder, until: until, now: now)
    }
    func releaseSlot(_ key: String, index: Int, holder: String) async throws { try await inner.releaseSlot(key, index: index, holder: holder) }
    func slotsTaken(_ key: String, limit: Int, now: Date) async throws -> Int { try await inner.slotsTaken(key, limit: limit, now: now) }
}
