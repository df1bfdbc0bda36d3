import Foundation
import KaiwaCore

/// A store that lives and dies with the process: for tests and throwaway runs.
public actor InMemoryChatStore: ChatStore {
    private var sessions: [SessionID: SessionRecord] = [:]
    private var messagesBySession: [SessionID: [MessageRecord]] = [:]
    private var connections: [String: ConnectionRecord] = [:]
    private var replyBatches: [SessionID: [ReplyEventBatch]] = [:]
    private var stopRequests: [StopRequestKey: Date] = [:]
    private var claims: [SessionID: (replyID: String, until: Date)] = [:]
    var access = InMemoryAccessState()
    private var attachments: [String: (record: AttachmentRecord, data: Data)] = [:]

    private struct StopRequestKey: Hashable {
        var session: SessionID
        var replyID: String
    }

    public init() {}

    public nonisolated var kind: String { "memory" }

    public func checkHealth() async throws {}

    public func openSession(_ session: SessionRecord, appending messages: [NewMessage]) async throws -> (session: SessionRecord, messages: [MessageRecord]) {
        if let existing = sessions[session.id], existing.owner != session.owner { throw KaiwaError.sessionNotFound(session.id) }
        if sessions[session.id] == nil { sessions[session.id] = session }
        let stored = try await appendMessages(messages, to: session.id, replyEvents: [])
        return (sessions[session.id]!, stored)
    }

    public func session(_ id: SessionID) async throws -> SessionRecord? {
        sessions[id]
    }

    public func listSessions(owner: String?, limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord] {
        let ordered = sessions.values
            .filter { $0.owner == owner }
            .sorted { ($0.updatedAt, $0.id.rawValue) > ($1.updatedAt, $1.id.rawValue) }
        let page = ordered.drop { session in
            guard let cursor else { return false }
            return (session.updatedAt, session.id.rawValue) >= (cursor.updatedAt, cursor.id.rawValue)
        }
        return Array(page.prefix(max(0, limit)))
    }

    public func listAllSessions(limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord] {
        let sorted = sessions.values.sorted { ($0.updatedAt, $0.id.rawValue) > ($1.updatedAt, $1.id.rawValue) }
        let after = sorted.drop { session in cursor.map { (session.updatedAt, session.id.rawValue) >= ($0.updatedAt, $0.id.rawValue) } ?? false }
        return Array(after.prefix(max(0, limit)))
    }

    public func renameSession(_ id: SessionID, owner: String?, title: String) async throws -> SessionRecord? {
        guard var session = sessions[id], session.owner == owner else { return nil }
        session.title = title
        sessions[id] = session
        return session
    }

    /// Looks through every session of the owner.
    public func searchSessions(owner: String?, matching query: String, limit: Int) async throws -> [SessionSearchHit] {
        let owned = sessions.values.filter { $0.owner == owner }
            .sorted { ($0.updatedAt, $0.id.rawValue) > ($1.updatedAt, $1.id.rawValue) }
        var hits: [SessionSearchHit] = []
        for session in owned where hits.count < limit {
            if SessionSearch.matches(session.title, query) {
                hits.append(SessionSearchHit(session: session, snippet: SessionSearch.snippet(of: session.title, around: query)))
            } else if let message = messagesBySession[session.id, default: []].first(where: { SessionSearch.matches($0.content.plainText, query) }) {
                hits.append(SessionSearchHit(session: session, snippet: SessionSearch.snippet(of: message.content.plainText, around: query)))
            }
        }
        return hits
    }

    public func deleteSession(_ id: SessionID, owner: String?) async throws -> Bool {
        guard sessions[id]?.owner == owner else { return false }
        for file in (messagesBySession[id] ?? []).flatMap(\.content.attachments) { attachments[file.id] = nil }
        messagesBySession[id] = nil
        return sessions.removeValue(forKey: id) != nil
    }

    public func appendMessages(_ messages: [NewMessage], to id: SessionID, replyEvents: [ReplyEventBatch]) async throws -> [MessageRecord] {
        guard var session = sessions[id] else { throw KaiwaError.sessionNotFound(id) }
        try await appendReplyEvents(replyEvents)
        let existing = messagesBySession[id, default: []]
        let first = (existing.last?.sequence ?? 0) + 1
        let parents = MessageParent.positions(of: messages, startingAt: first, after: ConversationTree(existing).leaf(session.currentLeaf))
        let records = messages.enumerated().map { offset, message in
            MessageRecord(
                id: message.id, sessionID: id, sequence: first + offset, role: message.role, content: message.content,
                model: message.model, status: message.status, usage: message.usage, costUSD: message.costUSD,
                createdAt: message.createdAt, parentSequence: parents[offset]
            )
        }
        messagesBySession[id, default: []] += records
        if let last = records.last {
            session.updatedAt = max(session.updatedAt, records.map(\.createdAt).max() ?? last.createdAt)
            session.currentLeaf = last.sequence
        }
        sessions[id] = session
        return records
    }

    public func setCurrentLeaf(_ leaf: Int, of id: SessionID, owner: String?) async throws -> SessionRecord? {
        guard var session = sessions[id], session.owner == owner else { return nil }
        session.currentLeaf = leaf
        sessions[id] = session
        return session
    }

    public func messages(in id: SessionID) async throws -> [MessageRecord] {
        messagesBySession[id] ?? []
    }

    public func messages(in id: SessionID, before sequence: Int?, limit: Int) async throws -> [MessageRecord] {
        Array((messagesBySession[id] ?? []).filter { $0.sequence < sequence ?? Int.max }.suffix(max(0, limit)))
    }

    public func sweep(before cutoff: Date) async throws -> SweepResult {
        var removedMessages = 0
        var removedSessions = 0
        for (id, session) in sessions where session.updatedAt < cutoff {
            removedMessages += messagesBySession[id]?.count ?? 0
            messagesBySession[id] = nil
            sessions[id] = nil
            removedSessions += 1
        }
        for (id, messages) in messagesBySession {
            let kept = messages.filter { $0.createdAt >= cutoff }
            removedMessages += messages.count - kept.count
            messagesBySession[id] = kept
        }
        attachments = attachments.filter { $0.value.record.createdAt >= cutoff }
        return SweepResult(sessions: removedSessions, messages: removedMessages)
    }

    public func saveAttachment(_ record: AttachmentRecord, chunks: @escaping AttachmentChunks) async throws {
        var data = Data()
        while let chunk = try await chunks() {
            data.append(chunk)
            guard data.count <= record.attachment.size else { throw AttachmentSizeMismatch(declared: record.attachment.size, received: data.count) }
        }
        guard data.count == record.attachment.size else { throw AttachmentSizeMismatch(declared: record.attachment.size, received: data.count) }
        attachments[record.attachment.id] = (record, data)
    }

    public func attachmentRecord(_ id: String, owner: String?) async throws -> AttachmentRecord? {
        attachments[id].flatMap { $0.record.owner == owner ? $0.record : nil }
    }

    public func attachmentData(_ id: String, owner: String?) async throws -> Data? {
        attachments[id].flatMap { $0.record.owner == owner ? $0.data : nil }
    }

    public func saveConnection(_ connection: ConnectionRecord) async throws {
        connections[connection.id] = connection
    }

    public func connection(_ id: String) async throws -> ConnectionRecord? {
        connections[id]
    }

    /// Every connection record, for tests to look at.
    public func allConnections() -> [ConnectionRecord] {
        Array(connections.values)
    }

    public func deleteConnection(_ id: String) async throws {
        connections[id] = nil
    }

    public func appendReplyEvents(_ batches: [ReplyEventBatch]) async throws {
        for batch in batches where !batch.events.isEmpty {
            replyBatches[batch.sessionID, default: []].append(batch)
        }
    }

    public func replyEvents(in session: SessionID, after sequence: Int) async throws -> StoredReplyEvents? {
        guard let latest = replyBatches[session]?.max(by: { $0.createdAt < $1.createdAt }) else { return nil }
        let events = replyBatches[session, default: []]
            .filter { $0.replyID == latest.replyID }
            .flatMap(\.events)
            .sorted { $0.sequence < $1.sequence }
        return StoredReplyEvents(replyID: latest.replyID, allEvents: events, after: sequence)
    }

    public func requestStop(ofReply replyID: String, in session: SessionID, expiresAt: Date) async throws {
        stopRequests[StopRequestKey(session: session, replyID: replyID)] = expiresAt
    }

    public func isStopRequested(ofReply replyID: String, in session: SessionID) async throws -> Bool {
        stopRequests[StopRequestKey(session: session, replyID: replyID)] != nil
    }

    public func claimSession(_ session: SessionID, forReply replyID: String, until: Date, now: Date) async throws -> Bool {
        if let claim = claims[session], claim.replyID != replyID, claim.until >= now { return false }
        claims[session] = (replyID, until)
        return true
    }

    public func releaseSession(_ session: SessionID, fromReply replyID: String) async throws {
        if claims[session]?.replyID == replyID { claims[session] = nil }
    }

    public func isSessionClaimed(_ session: SessionID, byReply replyID: String, now: Date) async throws -> Bool {
        guard let claim = claims[session] else { return false }
        return claim.replyID == replyID && claim.until >= now
    }

    public func sweepExpired(now: Date) async throws -> Int {
        claims = claims.filter { $0.value.until >= now }
        let expiredStops = stopRequests.filter { $0.value < now }.map(\.key)
        for key in expiredStops { stopRequests[key] = nil }
        let expiredConnections = connections.values.filter { $0.expiresAt < now }.map(\.id)
        for id in expiredConnections { connections[id] = nil }
        var removed = expiredConnections.count + expiredStops.count
        for (session, batches) in replyBatches {
            let kept = batches.filter { $0.expiresAt >= now }
            removed += batches.count - kept.count
            replyBatches[session] = kept.isEmpty ? nil : kept
        }
        return removed + access.sweep(now: now)
    }
}
