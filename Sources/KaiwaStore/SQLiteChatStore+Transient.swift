import Foundation
import GRDB
import KaiwaCore

extension SQLiteChatStore {
    public func saveConnection(_ connection: ConnectionRecord) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO connections (id, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [connection.id, connection.sessionID?.rawValue, connection.createdAt.millis, connection.expiresAt.millis]
            )
        }
    }

    public func connection(_ id: String) async throws -> ConnectionRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM connections WHERE id = ?", arguments: [id]).map { row in
                let session: String? = row["session_id"]
                return ConnectionRecord(
                    id: row["id"],
                    sessionID: session.map(SessionID.init(trusted:)),
                    createdAt: Date(millis: row["created_at"]),
                    expiresAt: Date(millis: row["expires_at"])
                )
            }
        }
    }

    public func deleteConnection(_ id: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM connections WHERE id = ?", arguments: [id])
        }
    }

    public func appendReplyEvents(_ batches: [ReplyEventBatch]) async throws {
        let rows = Self.encode(batches)
        guard !rows.isEmpty else { return }
        try await writer.write { db in try Self.insert(rows, db) }
    }

    /// Reply event batches with their events as JSON, ready to insert.
    static func encode(_ batches: [ReplyEventBatch]) -> [(ReplyEventBatch, String)] {
        batches.filter { !$0.events.isEmpty }.map { batch in
            (batch, "[" + batch.events.map(\.jsonText).joined(separator: ",") + "]")
        }
    }

    static func insert(_ rows: [(ReplyEventBatch, String)], _ db: Database) throws {
        guard !rows.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO reply_events (session_id, reply_id, first_seq, events, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """
        )
        for (batch, json) in rows {
            try statement.execute(arguments: [
                batch.sessionID.rawValue, batch.replyID, batch.events[0].sequence, json,
                batch.createdAt.millis, batch.expiresAt.millis,
            ])
        }
    }

    public func replyEvents(in session: SessionID, after sequence: Int) async throws -> StoredReplyEvents? {
        let stored = try await read { db -> (String, [String])? in
            guard
                let replyID = try String.fetchOne(
                    db,
                    sql: """
                        SELECT reply_id FROM reply_events WHERE session_id = ?
                        GROUP BY reply_id ORDER BY MIN(created_at) DESC LIMIT 1
                        """,
                    arguments: [session.rawValue]
                )
            else { return nil }
            let batches = try String.fetchAll(
                db,
                sql: "SELECT events FROM reply_events WHERE session_id = ? AND reply_id = ? ORDER BY first_seq",
                arguments: [session.rawValue, replyID]
            )
            return (replyID, batches)
        }
        guard let (replyID, batches) = stored else { return nil }
        let decoder = JSONDecoder()
        var events: [SequencedChatEvent] = []
        for json in batches {
            do {
                events += try decoder.decode([SequencedChatEvent].self, from: Data(json.utf8))
            } catch {
                throw StoreCorruption(row: "reply \(replyID)", problem: "events are unreadable: \(error)")
            }
        }
        return StoredReplyEvents(replyID: replyID, allEvents: events, after: sequence)
    }

    public func requestStop(ofReply replyID: String, in session: SessionID, expiresAt: Date) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO stop_requests (session_id, reply_id, expires_at) VALUES (?, ?, ?)",
                arguments: [session.rawValue, replyID, expiresAt.millis]
            )
        }
    }

    public func isStopRequested(ofReply replyID: String, in session: SessionID) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM stop_requests WHERE session_id = ? AND reply_id = ?", arguments: [session.rawValue, replyID]
            ) ?? false
        }
    }

    public func claimSession(_ session: SessionID, forReply replyID: String, until: Date, now: Date) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO reply_claims (session_id, reply_id, until) VALUES (?, ?, ?)
                    ON CONFLICT (session_id) DO UPDATE SET reply_id = excluded.reply_id, until = excluded.until
                    WHERE reply_claims.reply_id = excluded.reply_id OR reply_claims.until < ?
                    """,
                arguments: [session.rawValue, replyID, until.millis, now.millis]
            )
            return db.changesCount > 0
        }
    }

    public func releaseSession(_ session: SessionID, fromReply replyID: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM reply_claims WHERE session_id = ? AND reply_id = ?", arguments: [session.rawValue, replyID])
        }
    }

    public func isSessionClaimed(_ session: SessionID, byReply replyID: String, now: Date) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM reply_claims WHERE session_id = ? AND reply_id = ? AND until >= ?",
                arguments: [session.rawValue, replyID, now.millis]
            ) ?? false
        }
    }

    public func sweepExpired(now: Date) async throws -> Int {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM reply_claims WHERE until < ?", arguments: [now.millis])
            try db.execute(sql: "DELETE FROM stop_requests WHERE expires_at < ?", arguments: [now.millis])
            var removed = db.changesCount
            try db.execute(sql: "DELETE FROM connections WHERE expires_at < ?", arguments: [now.millis])
            removed += db.changesCount
            try db.execute(sql: "DELETE FROM reply_events WHERE expires_at < ?", arguments: [now.millis])
            removed += db.changesCount
            return removed + (try Self.sweepExpiredAccess(now: now, db))
        }
    }
}
