import Foundation
import GRDB
import KaiwaCore

/// The default store: one SQLite file in WAL mode, shared by readers and one writer.
///
/// Times are stored as integer milliseconds since 1970 so that ordering and range queries
/// are exact; message content is stored as the JSON of its content blocks.
public final class SQLiteChatStore: ChatStore {
    let pool: DatabasePool
    let writer: SQLiteWriteBatcher
    /// The file this store keeps its data in.
    public let path: String

    public var kind: String { "sqlite" }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        self.path = path
        self.pool = try DatabasePool(path: path, configuration: configuration)
        try SQLiteSchema.migrator.migrate(pool)
        self.writer = SQLiteWriteBatcher(pool: pool)
    }

    public func checkHealth() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sessions LIMIT 1") }
    }

    public func openSession(_ session: SessionRecord, appending messages: [NewMessage]) async throws -> (session: SessionRecord, messages: [MessageRecord]) {
        let encoded = messages.map { ($0, Self.encode($0.content)) }
        return try await writer.write { db in
            try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO sessions (id, agent, title, owner, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    session.id.rawValue, session.agent, session.title, session.owner,
                    session.createdAt.millis, session.updatedAt.millis,
                ]
            )
            if db.changesCount == 1 {
                // A new session: its record is the one just written, and its messages come first.
                let stored = try Self.insert(encoded, into: session.id, after: 0, leaf: nil, db)
                let latest = max(session.updatedAt.millis, messages.map(\.createdAt.millis).max() ?? 0)
                if let leaf = stored.last?.sequence {
                    try db.cachedStatement(sql: "UPDATE sessions SET updated_at = ?, current_leaf = ? WHERE id = ?")
                        .execute(arguments: [latest, leaf, session.id.rawValue])
                }
                var record = session
                record.currentLeaf = stored.last?.sequence
                record.createdAt = Date(millis: session.createdAt.millis)
                record.updatedAt = Date(millis: latest)
                return (record, stored)
            }
            // An existing session takes messages from its owner only; checked inside this write.
            let owned = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ? AND owner IS ?)"),
                arguments: [session.id.rawValue, session.owner]
            )
            guard owned == true else { throw KaiwaError.sessionNotFound(session.id) }
            let stored = try Self.append(encoded, to: session.id, db)
            guard let record = try Self.fetchSession(db, id: session.id) else { throw KaiwaError.sessionNotFound(session.id) }
            return (record, stored)
        }
    }

    public func session(_ id: SessionID) async throws -> SessionRecord? {
        try await read { db in try Self.fetchSession(db, id: id) }
    }

    public func listSessions(owner: String?, limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord] {
        try await read { db in
            // `owner = ?` rather than `owner IS ?`: only the former lets SQLite use the partial index of owned sessions.
            var conditions = [owner == nil ? "owner IS NULL" : "owner = ?"]
            var arguments: StatementArguments = owner.map { [$0] } ?? []
            if let cursor {
                conditions.append("(updated_at < ? OR (updated_at = ? AND id < ?))")
                _ = arguments.append(contentsOf: [cursor.updatedAt.millis, cursor.updatedAt.millis, cursor.id.rawValue])
            }
            _ = arguments.append(contentsOf: [max(0, limit)])
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM sessions WHERE \(conditions.joined(separator: " AND ")) ORDER BY updated_at DESC, id DESC LIMIT ?",
                arguments: arguments
            )
            return try rows.map(Self.sessionRecord)
        }
    }

    public func listAllSessions(limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM sessions WHERE (updated_at < ? OR (updated_at = ? AND id < ?)) ORDER BY updated_at DESC, id DESC LIMIT ?",
                arguments: [cursor?.updatedAt.millis ?? Int64.max, cursor?.updatedAt.millis ?? Int64.max, cursor?.id.rawValue ?? "", max(0, limit)]
            ).map(Self.sessionRecord)
        }
    }

    public func renameSession(_ id: SessionID, owner: String?, title: String) async throws -> SessionRecord? {
        try await writer.write { db in
            try Row.fetchOne(
                db, sql: "UPDATE sessions SET title = ? WHERE id = ? AND owner IS ? RETURNING *", arguments: [title, id.rawValue, owner]
            ).map(Self.sessionRecord)
        }
    }

    /// Every session of the owner, through the FTS5 trigram index of titles and message text.
    /// A query that matches few rows goes from the matches to their sessions; one that matches
    /// many (a common word) walks the owner's sessions newest first and stops at `limit`. One or
    /// two characters, below a trigram, are looked for in the indexed text the same way, by scanning.
    public func searchSessions(owner: String?, matching query: String, limit: Int) async throws -> [SessionSearchHit] {
        try await indexPendingSearchRows()
        return try await read { db in try SQLiteSessionSearch(db: db, owner: owner, query: query, limit: max(0, limit)).run() }
    }

    /// Indexes for search what was written since the last time; returns how many rows.
    @discardableResult
    public func indexPendingSearchRows() async throws -> Int {
        // Asked in a read first, so that a search or an idle second does not queue behind writers for nothing.
        guard try await read({ db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM search_pending)") ?? false }) else { return 0 }
        return try await writer.write { db in try SQLiteSchema.indexPendingSearchRows(db) }
    }

    public func deleteSession(_ id: SessionID, owner: String?) async throws -> Bool {
        try await writer.write { db in
            // The files its messages name go with it (while the messages are still there to name them).
            try db.execute(
                sql: """
                    DELETE FROM attachments WHERE id IN (
                      SELECT json_extract(block.value, '$.attachment.id') FROM messages m, json_each(m.content) block
                      WHERE m.session_id = ?1 AND json_extract(block.value, '$.type') = 'attachment'
                        AND EXISTS (SELECT 1 FROM sessions WHERE id = ?1 AND owner IS ?2))
                    """,
                arguments: [id.rawValue, owner]
            )
            try db.execute(sql: "DELETE FROM sessions WHERE id = ? AND owner IS ?", arguments: [id.rawValue, owner])
            return db.changesCount > 0
        }
    }

    public func appendMessages(_ messages: [NewMessage], to id: SessionID, replyEvents: [ReplyEventBatch]) async throws -> [MessageRecord] {
        let encoded = messages.map { ($0, Self.encode($0.content)) }
        let events = Self.encode(replyEvents)
        return try await writer.write { db in
            let stored = try Self.append(encoded, to: id, db)
            try Self.insert(events, db)
            return stored
        }
    }

    /// Appends messages to an existing session after its last one, and moves the session's
    /// `updated_at`; throws `sessionNotFound` when there is no such session.
    private static func append(_ messages: [(NewMessage, String)], to id: SessionID, _ db: Database) throws -> [MessageRecord] {
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT (SELECT MAX(seq) FROM messages WHERE session_id = ?1) AS last, current_leaf FROM sessions WHERE id = ?1"),
            arguments: [id.rawValue]
        )
        guard let row else { throw KaiwaError.sessionNotFound(id) }
        let last: Int? = row["last"]
        let leaf: Int? = row["current_leaf"]
        let stored = try insert(messages, into: id, after: last ?? 0, leaf: leaf ?? last, db)
        guard let newLeaf = stored.last?.sequence else { return stored }
        let latest = messages.map(\.0.createdAt.millis).max() ?? 0
        try db.cachedStatement(sql: "UPDATE sessions SET updated_at = MAX(updated_at, ?), current_leaf = ? WHERE id = ?")
            .execute(arguments: [latest, newLeaf, id.rawValue])
        return stored
    }

    /// Inserts messages numbered from `sequence + 1`, the first of them after `leaf` unless it
    /// names its parent.
    private static func insert(
        _ messages: [(NewMessage, String)], into id: SessionID, after sequence: Int, leaf: Int?, _ db: Database
    ) throws -> [MessageRecord] {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO messages
                  (id, session_id, seq, role, content, model, status, input_tokens, output_tokens, cost_usd, created_at, parent_seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        let parents = MessageParent.positions(of: messages.map(\.0), startingAt: sequence + 1, after: leaf)
        let records = try messages.enumerated().map { offset, pair in
            let (message, content) = pair
            let sequence = sequence + offset + 1
            try statement.execute(
                arguments: [
                    message.id, id.rawValue, sequence, message.role.rawValue, content, message.model,
                    message.status.rawValue, message.usage?.inputTokens, message.usage?.outputTokens,
                    message.costUSD.flatMap { $0.isFinite ? $0 : nil }, message.createdAt.millis, parents[offset],
                ]
            )
            return MessageRecord(
                id: message.id, sessionID: id, sequence: sequence, role: message.role, content: message.content,
                model: message.model, status: message.status, usage: message.usage, costUSD: message.costUSD,
                createdAt: Date(millis: message.createdAt.millis), parentSequence: parents[offset]
            )
        }
        return records
    }

    public func setCurrentLeaf(_ leaf: Int, of id: SessionID, owner: String?) async throws -> SessionRecord? {
        try await writer.write { db in
            try Row.fetchOne(
                db, sql: "UPDATE sessions SET current_leaf = ? WHERE id = ? AND owner IS ? RETURNING *", arguments: [leaf, id.rawValue, owner]
            ).map(Self.sessionRecord)
        }
    }

    static func encode(_ content: [ContentBlock]) -> String {
        JSONText.encode(content)
    }

    public func messages(in id: SessionID) async throws -> [MessageRecord] {
        try await read { db in
            try SQLiteMessageRows.fetch(
                db, sql: "SELECT \(SQLiteMessageRows.columns) FROM messages WHERE session_id = ? ORDER BY seq", arguments: [id.rawValue]
            )
        }
    }

    public func messages(in id: SessionID, before sequence: Int?, limit: Int) async throws -> [MessageRecord] {
        try await read { db in
            try SQLiteMessageRows.fetch(
                db, sql: "SELECT \(SQLiteMessageRows.columns) FROM messages WHERE session_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                arguments: [id.rawValue, sequence ?? Int.max, max(0, limit)]
            )
            .reversed()
        }
    }

    public func sweep(before cutoff: Date) async throws -> SweepResult {
        try await writer.write { db in
            let sessionMessages = try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM messages WHERE session_id IN (SELECT id FROM sessions WHERE updated_at < ?)",
                arguments: [cutoff.millis]
            ) ?? 0
            try db.execute(sql: "DELETE FROM sessions WHERE updated_at < ?", arguments: [cutoff.millis])
            let sessions = db.changesCount
            try db.execute(sql: "DELETE FROM messages WHERE created_at < ?", arguments: [cutoff.millis])
            let messages = sessionMessages + db.changesCount
            try db.execute(sql: "DELETE FROM attachments WHERE created_at < ?", arguments: [cutoff.millis])
            return SweepResult(sessions: sessions, messages: messages)
        }
    }

    // MARK: Rows

    private static func fetchSession(_ db: Database, id: SessionID) throws -> SessionRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM sessions WHERE id = ?"), arguments: [id.rawValue]).map(sessionRecord)
    }

    static func sessionRecord(_ row: Row) throws -> SessionRecord {
        SessionRecord(
            id: try SessionID(validating: row["id"] ?? ""),
            agent: row["agent"],
            title: row["title"],
            owner: row["owner"],
            createdAt: Date(millis: row["created_at"]),
            updatedAt: Date(millis: row["updated_at"]),
            currentLeaf: row["current_leaf"]
        )
    }
}
