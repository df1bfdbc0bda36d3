import Foundation
import KaiwaCore

/// A store that lives and dies with the process: for tests and throwaway runs.
public actor InMemoryChatStore: ChatStore {
    private var sessions: [SessionID: SessionRecord] = [:]
    private var messagesBySession: [SessionID: [MessageRecord]] = [:]

    public init() {}

    public nonisolated var kind: String { "memory" }

    public func checkHealth() async throws {}

    public func createSessionIfAbsent(_ session: SessionRecord) async throws -> SessionRecord {
        if let existing = sessions[session.id] { return existing }
        sessions[session.id] = session
        return session
    }

    public func session(_ id: SessionID) async throws -> SessionRecord? {
        sessions[id]
    }

    public func listSessions(owner: String?, limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord] {
        let ordered = sessions.values
            .filter { owner == nil || $0.owner == owner }
            .sorted { ($0.updatedAt, $0.id.rawValue) > ($1.updatedAt, $1.id.rawValue) }
        let page = ordered.drop { session in
            guard let cursor else { return false }
            return (session.updatedAt, session.id.rawValue) >= (cursor.updatedAt, cursor.id.rawValue)
        }
        return Array(page.prefix(max(0, limit)))
    }

    public func deleteSession(_ id: SessionID) async throws -> Bool {
        messagesBySession[id] = nil
        return sessions.removeValue(forKey: id) != nil
    }

    public func appendMessage(_ message: NewMessage, to id: SessionID) async throws -> MessageRecord {
        guard var session = sessions[id] else { throw KaiwaError.sessionNotFound(id) }
        let existing = messagesBySession[id, default: []]
        let record = MessageRecord(
            id: UUIDString.random(),
            sessionID: id,
            sequence: (existing.last?.sequence ?? 0) + 1,
            role: message.role,
            content: message.content,
            model: message.model,
            status: message.status,
            usage: message.usage,
            createdAt: message.createdAt
        )
        messagesBySession[id, default: []].append(record)
        session.updatedAt = max(session.updatedAt, message.createdAt)
        sessions[id] = session
        return record
    }

    public func messages(in id: SessionID) async throws -> [MessageRecord] {
        messagesBySession[id] ?? []
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
        return SweepResult(sessions: removedSessions, messages: removedMessages)
    }
}
