import GRDB

/// The SQLite schema, as an ordered list of migrations. Never edit a migration that has
/// shipped; add a new one.
enum SQLiteSchema {
    /// SQL for the text a person reads of a stored message: its text blocks, joined.
    static func messageText(_ content: String) -> String {
        "coalesce((SELECT group_concat(json_extract(value, '$.text'), '') FROM json_each(\(content)) WHERE json_extract(value, '$.type') = 'text'), '')"
    }

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
        // Search: each session's title (seq -1) and each message's text in an FTS5 index with
        // the trigram tokenizer (substrings, so Japanese without spaces is found), kept in step
        // by triggers. `search_rows` maps the index's rowids to (session, seq) so that deletes
        // find their rows without scanning the index.
        migrator.registerMigration("v8: search") { db in
            try db.execute(
                sql: """
                    CREATE TABLE search_rows (
                      rowid INTEGER PRIMARY KEY,
                      session_id TEXT NOT NULL,
                      seq INTEGER NOT NULL
                    );
                    CREATE UNIQUE INDEX search_rows_by_message ON search_rows (session_id, seq);
                    CREATE VIRTUAL TABLE search_text USING fts5(text, tokenize = 'trigram');

                    CREATE TRIGGER search_message_added AFTER INSERT ON messages BEGIN
                      INSERT INTO search_rows (session_id, seq)
                        SELECT NEW.session_id, NEW.seq WHERE \(messageText("NEW.content")) != '';
                      INSERT INTO search_text (rowid, text)
                        SELECT last_insert_rowid(), \(messageText("NEW.content")) WHERE \(messageText("NEW.content")) != '';
                    END;
                    CREATE TRIGGER search_message_removed AFTER DELETE ON messages BEGIN
                      DELETE FROM search_text WHERE rowid IN
                        (SELECT rowid FROM search_rows WHERE session_id = OLD.session_id AND seq = OLD.seq);
                      DELETE FROM search_rows WHERE session_id = OLD.session_id AND seq = OLD.seq;
                    END;
                    CREATE TRIGGER search_session_added AFTER INSERT ON sessions BEGIN
                      INSERT INTO search_rows (session_id, seq) VALUES (NEW.id, -1);
                      INSERT INTO search_text (rowid, text) VALUES (last_insert_rowid(), NEW.title);
                    END;
                    CREATE TRIGGER search_session_renamed AFTER UPDATE OF title ON sessions BEGIN
                      UPDATE search_text SET text = NEW.title WHERE rowid IN
                        (SELECT rowid FROM search_rows WHERE session_id = NEW.id AND seq = -1);
                    END;
                    CREATE TRIGGER search_session_removed AFTER DELETE ON sessions BEGIN
                      DELETE FROM search_text WHERE rowid IN
                        (SELECT rowid FROM search_rows WHERE session_id = OLD.id AND seq = -1);
                      DELETE FROM search_rows WHERE session_id = OLD.id AND seq = -1;
                    END;

                    INSERT INTO search_rows (session_id, seq) SELECT id, -1 FROM sessions;
                    INSERT INTO search_rows (session_id, seq)
                      SELECT session_id, seq FROM messages WHERE \(messageText("messages.content")) != '';
                    INSERT INTO search_text (rowid, text)
                      SELECT r.rowid, CASE WHEN r.seq = -1 THEN s.title ELSE \(messageText("m.content")) END
                      FROM search_rows r JOIN sessions s ON s.id = r.session_id
                      LEFT JOIN messages m ON m.session_id = r.session_id AND m.seq = r.seq;
                    """
            )
        }
        return migrator
    }
}
