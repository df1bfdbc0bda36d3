import GRDB

/// The SQLite schema, as an ordered list of migrations. Never edit a migration that has
/// shipped; add a new one.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: sessions and messages") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sessions (
                      id TEXT PRIMARY KEY NOT NULL,
                      agent TEXT NOT NULL,
                      title TEXT NOT NULL,
                      owner TEXT,
                      created_at INTEGER NOT NULL,
                      updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX sessions_by_update ON sessions (updated_at DESC, id DESC);
                    CREATE INDEX sessions_by_owner ON sessions (owner, updated_at DESC, id DESC) WHERE owner IS NOT NULL;
                    CREATE TABLE messages (
                      session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                      seq INTEGER NOT NULL,
                      id TEXT NOT NULL,
                      role TEXT NOT NULL,
                      content TEXT NOT NULL,
                      model TEXT,
                      status TEXT NOT NULL,
                      input_tokens INTEGER,
                      output_tokens INTEGER,
                      created_at INTEGER NOT NULL,
                      PRIMARY KEY (session_id, seq)
                    ) WITHOUT ROWID;
                    CREATE INDEX messages_by_time ON messages (created_at);
                    """
            )
        }
        migrator.registerMigration("v2: connections and reply events") { db in
            try db.execute(
                sql: """
                    CREATE TABLE connections (
                      id TEXT PRIMARY KEY NOT NULL,
                      session_id TEXT,
                      created_at INTEGER NOT NULL,
                      expires_at INTEGER NOT NULL
                    );
                    CREATE INDEX connections_by_expiry ON connections (expires_at);
                    CREATE TABLE reply_events (
                      session_id TEXT NOT NULL,
                      reply_id TEXT NOT NULL,
                      first_seq INTEGER NOT NULL,
                      events TEXT NOT NULL,
                      created_at INTEGER NOT NULL,
                      expires_at INTEGER NOT NULL,
                      PRIMARY KEY (session_id, reply_id, first_seq)
                    );
                    CREATE INDEX reply_events_by_time ON reply_events (session_id, created_at);
                    CREATE INDEX reply_events_by_expiry ON reply_events (expires_at);
                    """
            )
        }
        migrator.registerMigration("v3: stop requests") { db in
            try db.execute(
                sql: """
                    CREATE TABLE stop_requests (
                      session_id TEXT NOT NULL,
                      reply_id TEXT NOT NULL,
                      expires_at INTEGER NOT NULL,
                      PRIMARY KEY (session_id, reply_id)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v4: reply claims") { db in
            try db.execute(
                sql: """
                    CREATE TABLE reply_claims (
                      session_id TEXT PRIMARY KEY NOT NULL,
                      reply_id TEXT NOT NULL,
                      until INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v5: access") { db in
            try db.execute(
                sql: """
                    CREATE TABLE api_keys (
                      id TEXT PRIMARY KEY NOT NULL,
                      hash TEXT NOT NULL,
                      prefix TEXT NOT NULL,
                      user TEXT NOT NULL,
                      name TEXT,
                      created_at INTEGER NOT NULL,
                      last_used_at INTEGER,
                      expires_at INTEGER,
                      revoked_at INTEGER
                    ) WITHOUT ROWID;
                    CREATE INDEX api_keys_by_user ON api_keys (user, created_at DESC);
                    CREATE TABLE tickets (
                      hash TEXT PRIMARY KEY NOT NULL,
                      subject TEXT NOT NULL,
                      expires_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE rate_buckets (
                      key TEXT PRIMARY KEY NOT NULL,
                      tokens REAL NOT NULL,
                      updated_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE counters (
                      key TEXT PRIMARY KEY NOT NULL,
                      value INTEGER NOT NULL,
                      expires_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE slots (
                      key TEXT NOT NULL,
                      slot INTEGER NOT NULL,
                      holder TEXT NOT NULL,
                      until INTEGER NOT NULL,
                      PRIMARY KEY (key, slot)
                    ) WITHOUT ROWID;
                    """
            )
        }
        // Owned sessions changed every index entry on each message while `updated_at` was part of
        // their index; listing one user's sessions sorts them instead (a user has few).
        migrator.registerMigration("v6: owner index without times") { db in
            try db.execute(
                sql: """
                    DROP INDEX sessions_by_owner;
                    CREATE INDEX sessions_by_owner ON sessions (owner) WHERE owner IS NOT NULL;
                    """
            )
        }
        migrator.registerMigration("v7: reply cost") { db in
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN cost_usd REAL")
        }
        return migrator
    }
}
