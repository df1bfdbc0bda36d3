import GRDB

/// The SQLite schema, as an ordered list of migrations. Never edit a migration that has
/// shipped; add a new one.
enum SQLiteSchema {
    /// Moves what `search_pending` lists into the search index, in one transaction; returns how
    /// many rows it took. The text is the title for seq -1, else the message's text blocks.
    static func indexPendingSearchRows(_ db: Database) throws -> Int {
        let pending = try Int.fetchOne(db, sql: "SELECT count(*) FROM search_pending") ?? 0
        guard pending > 0 else { return 0 }
        let text = "CASE WHEN p.seq = -1 THEN s.title ELSE \(messageText("m.content")) END"
        try db.execute(
            sql: """
                DELETE FROM search_text WHERE rowid IN (SELECT r.rowid FROM search_rows r JOIN search_pending p USING (session_id, seq));
                DELETE FROM search_rows WHERE (session_id, seq) IN (SELECT session_id, seq FROM search_pending);
                INSERT INTO search_rows (session_id, seq)
                  SELECT p.session_id, p.seq FROM search_pending p JOIN sessions s ON s.id = p.session_id
                  LEFT JOIN messages m ON m.session_id = p.session_id AND m.seq = p.seq
                  WHERE (p.seq = -1 OR m.seq IS NOT NULL) AND \(text) != '';
                INSERT INTO search_text (rowid, text)
                  SELECT r.rowid, \(text) FROM search_pending p JOIN search_rows r USING (session_id, seq)
                  JOIN sessions s ON s.id = p.session_id LEFT JOIN messages m ON m.session_id = p.session_id AND m.seq = p.seq;
                DELETE FROM search_pending;
                """
        )
        return pending
    }

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
        // the trigram tokenizer (substrings, so Japanese without spaces is found). Writes only
        // note what is new in `search_pending` (a plain insert); `indexPendingSearchRows` moves
        // it into the index in batches (every second, and before each search), since each
        // transaction that touches an FTS5 table writes a segment: in every request's write it
        // cost about 30% of /chat's throughput. `search_rows` maps the index's rowids to
        // (session, seq) so that deletes find their rows without scanning the index.
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
                    CREATE TABLE search_pending (
                      session_id TEXT NOT NULL,
                      seq INTEGER NOT NULL,
                      PRIMARY KEY (session_id, seq)
                    ) WITHOUT ROWID;

                    CREATE TRIGGER search_message_added AFTER INSERT ON messages BEGIN
                      INSERT OR IGNORE INTO search_pending VALUES (NEW.session_id, NEW.seq);
                    END;
                    CREATE TRIGGER search_session_added AFTER INSERT ON sessions BEGIN
                      INSERT OR IGNORE INTO search_pending VALUES (NEW.id, -1);
                    END;
                    CREATE TRIGGER search_session_renamed AFTER UPDATE OF title ON sessions BEGIN
                      INSERT OR IGNORE INTO search_pending VALUES (NEW.id, -1);
                    END;
                    CREATE TRIGGER search_message_removed AFTER DELETE ON messages BEGIN
                      DELETE FROM search_pending WHERE session_id = OLD.session_id AND seq = OLD.seq;
                      DELETE FROM search_text WHERE rowid IN
                        (SELECT rowid FROM search_rows WHERE session_id = OLD.session_id AND seq = OLD.seq);
                      DELETE FROM search_rows WHERE session_id = OLD.session_id AND seq = OLD.seq;
                    END;
                    CREATE TRIGGER search_session_removed AFTER DELETE ON sessions BEGIN
                      DELETE FROM search_pending WHERE session_id = OLD.id AND seq = -1;
                      DELETE FROM search_text WHERE rowid IN
                        (SELECT rowid FROM search_rows WHERE session_id = OLD.id AND seq = -1);
                      DELETE FROM search_rows WHERE session_id = OLD.id AND seq = -1;
                    END;

                    INSERT INTO search_pending SELECT id, -1 FROM sessions;
                    INSERT INTO search_pending SELECT session_id, seq FROM messages;
                    """
            )
        }
        // Branches: each message names the message it follows, and a session the end of the
        // branch its user is on. A history from before is one straight branch: each message
        // follows the one before it, and the current leaf stays unset (the last message).
        migrator.registerMigration("v9: branches") { db in
            try db.execute(
                sql: """
                    ALTER TABLE messages ADD COLUMN parent_seq INTEGER;
                    ALTER TABLE sessions ADD COLUMN current_leaf INTEGER;
                    UPDATE messages SET parent_seq =
                      (SELECT max(p.seq) FROM messages p WHERE p.session_id = messages.session_id AND p.seq < messages.seq);
                    """
            )
        }
        // Attachments: a row per file and its bytes in pieces (see SQLiteChatStore+Attachments).
        migrator.registerMigration("v10: attachments") { db in
            try db.execute(
                sql: """
                    CREATE TABLE attachments (
                      id TEXT PRIMARY KEY NOT NULL,
                      owner TEXT,
                      media_type TEXT NOT NULL,
                      name TEXT NOT NULL,
                      size INTEGER NOT NULL,
                      created_at INTEGER NOT NULL,
                      complete INTEGER NOT NULL
                    );
                    CREATE INDEX attachments_by_time ON attachments (created_at);
                    CREATE TABLE attachment_pieces (
                      attachment_id TEXT NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
                      n INTEGER NOT NULL,
                      bytes BLOB NOT NULL,
                      PRIMARY KEY (attachment_id, n)
                    );
                    """
            )
        }
        return migrator
    }
}
