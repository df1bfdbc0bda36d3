import Foundation
import GRDB
import KaiwaCore

extension SQLiteChatStore {
    // MARK: API keys

    public func saveAPIKey(_ key: APIKeyRecord) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO api_keys (id, hash, prefix, user, name, created_at, last_used_at, expires_at, revoked_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    key.id, key.hash, key.prefix, key.user, key.name, key.createdAt.millis, key.lastUsedAt?.millis,
                    key.expiresAt?.millis, key.revokedAt?.millis,
                ]
            )
            guard db.changesCount == 1 else { throw KaiwaError(.conflict, "An API key with id \(key.id) exists.") }
        }
    }

    public func apiKey(id: String) async throws -> APIKeyRecord? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM api_keys WHERE id = ?"), arguments: [id]).map(Self.apiKeyRecord)
        }
    }

    public func apiKeys(user: String?) async throws -> [APIKeyRecord] {
        try await read { db in
            let rows =
                if let user {
                    try Row.fetchAll(db, sql: "SELECT * FROM api_keys WHERE user = ? ORDER BY created_at DESC, id DESC", arguments: [user])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY created_at DESC, id DESC")
                }
            return try rows.map(Self.apiKeyRecord)
        }
    }

    public func revokeAPIKey(id: String, at: Date) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", arguments: [at.millis, id])
            return db.changesCount == 1
        }
    }

    public func touchAPIKey(id: String, at: Date) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE api_keys SET last_used_at = ? WHERE id = ?", arguments: [at.millis, id])
        }
    }

    private static func apiKeyRecord(_ row: Row) throws -> APIKeyRecord {
        let id: String? = row["id"], hash: String? = row["hash"], prefix: String? = row["prefix"], user: String? = row["user"]
        let created: Int64? = row["created_at"]
        guard let id, let hash, let prefix, let user, let created else {
            throw StoreCorruption(row: "api key \(id ?? "?")", problem: "it lacks its id, hash, prefix, user or creation time")
        }
        let lastUsed: Int64? = row["last_used_at"]
        let expires: Int64? = row["expires_at"]
        let revoked: Int64? = row["revoked_at"]
        return APIKeyRecord(
            id: id, hash: hash, prefix: prefix, user: user, name: row["name"], createdAt: Date(millis: created),
            lastUsedAt: lastUsed.map(Date.init(millis:)), expiresAt: expires.map(Date.init(millis:)), revokedAt: revoked.map(Date.init(millis:))
        )
    }

    // MARK: Tickets

    public func saveTicket(_ ticket: TicketRecord) async throws {
        let subject = try SubjectJSON.encode(ticket.subject)
        try await writer.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO tickets (hash, subject, expires_at) VALUES (?, ?, ?)",
                arguments: [ticket.hash, subject, ticket.expiresAt.millis]
            )
        }
    }

    public func redeemTicket(hash: String, now: Date) async throws -> TicketRecord? {
        let row = try await writer.write { db -> (String, Int64)? in
            guard let row = try Row.fetchOne(db, sql: "DELETE FROM tickets WHERE hash = ? RETURNING subject, expires_at", arguments: [hash]) else {
                return nil
            }
            return (row["subject"], row["expires_at"])
        }
        guard let (subject, expiry) = row, now < Date(millis: expiry) else { return nil }
        return TicketRecord(hash: hash, subject: try SubjectJSON.decode(subject), expiresAt: Date(millis: expiry))
    }

    // MARK: Limits

    public func takeToken(from key: String, capacity: Int, refillPerSecond: Double, now: Date) async throws -> BucketDecision {
        try await writer.write { db in
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT tokens, updated_at FROM rate_buckets WHERE key = ?"), arguments: [key])
            let tokens: Double = row?["tokens"] ?? Double(capacity)
            let updatedAt = row.map { Date(millis: $0["updated_at"]) } ?? now
            let outcome = TokenBucket.take(tokens: tokens, updatedAt: updatedAt, capacity: capacity, refillPerSecond: refillPerSecond, now: now)
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO rate_buckets (key, tokens, updated_at) VALUES (?, ?, ?)")
                .execute(arguments: [key, outcome.tokens, outcome.updatedAt.millis])
            return outcome.decision
        }
    }

    public func addToCounter(_ key: String, amount: Int, expiresAt: Date) async throws -> Int {
        try await writer.write { db in
            try Int.fetchOne(
                db.cachedStatement(
                    sql: """
                        INSERT INTO counters (key, value, expires_at) VALUES (?, ?, ?)
                        ON CONFLICT (key) DO UPDATE SET value = value + excluded.value, expires_at = excluded.expires_at
                        RETURNING value
                        """
                ),
                arguments: [key, amount, expiresAt.millis]
            ) ?? amount
        }
    }

    public func counter(_ key: String, now: Date) async throws -> Int {
        try await read { db in
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT value FROM counters WHERE key = ? AND expires_at > ?"), arguments: [key, now.millis]
            ) ?? 0
        }
    }

    public func claimSlot(_ key: String, limit: Int, holder: String, until: Date, now: Date) async throws -> Int? {
        try await writer.write { db in
            for slot in 0..<max(0, limit) {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO slots (key, slot, holder, until) VALUES (?, ?, ?, ?)
                        ON CONFLICT (key, slot) DO UPDATE SET holder = excluded.holder, until = excluded.until
                        WHERE slots.until <= ? OR slots.holder = excluded.holder
                        """
                ).execute(arguments: [key, slot, holder, until.millis, now.millis])
                if db.changesCount == 1 { return slot }
            }
            return nil
        }
    }

    public func releaseSlot(_ key: String, index: Int, holder: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM slots WHERE key = ? AND slot = ? AND holder = ?", arguments: [key, index, holder])
        }
    }

    public func slotsTaken(_ key: String, limit: Int, now: Date) async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM slots WHERE key = ? AND slot < ? AND until > ?", arguments: [key, limit, now.millis]) ?? 0
        }
    }

    /// Deletes expired tickets, counters and slots, and buckets untouched for a day.
    static func sweepExpiredAccess(now: Date, _ db: Database) throws -> Int {
        var removed = 0
        for (table, column, cutoff) in [
            ("tickets", "expires_at", now), ("counters", "expires_at", now), ("slots", "until", now),
            ("rate_buckets", "updated_at", now.addingTimeInterval(-86_400)),
        ] {
            try db.execute(sql: "DELETE FROM \(table) WHERE \(column) < ?", arguments: [cutoff.millis])
            removed += db.changesCount
        }
        return removed
    }
}
