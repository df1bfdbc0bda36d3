import Foundation
import GRDB
import KaiwaCore

/// One search of an owner's conversations in SQLite (`GET /api/sessions?q=`), newest first.
/// Three ways to answer, picked by how common the query is:
///
/// - **Few matches** (under 1,000 indexed rows): from the FTS5 trigram index's matches to their
///   sessions, sorted. The cost follows the number of matches.
/// - **A common word**: the index would hand over tens of thousands of rows to sort, while the
///   newest conversations almost surely hold it. So the owner's sessions are walked newest first,
///   their titles and messages checked in order, until `limit` sessions matched: the first
///   `limit` found are the answer. The walk stops after `rowBudget` rows (a word common in old
///   conversations only) and the index answers instead, sorting every match.
/// - **One or two characters**, below a trigram: the walk, without a budget (nothing else can answer).
struct SQLiteSessionSearch {
    let db: Database
    let owner: String?
    let query: String
    let limit: Int

    /// Rows of matches beyond which a query is common and the walk is tried first.
    static let commonMatches = 1000
    /// Rows the walk reads before the index answers instead (about 5 ms).
    static let rowBudget = 2500

    func run() throws -> [SessionSearchHit] {
        guard query.count >= 3 else { return try newestFirst(rowBudget: nil) ?? [] }
        let matches = try Int.fetchOne(
            db, sql: "SELECT count(*) FROM (SELECT rowid FROM search_text WHERE search_text MATCH ? LIMIT ?)",
            arguments: [phrase, Self.commonMatches]
        ) ?? 0
        if matches < Self.commonMatches { return try fromMatches() }
        return try newestFirst(rowBudget: Self.rowBudget) ?? fromEveryMatch()
    }

    /// The query as one FTS5 phrase (its quotes doubled): no operators, no column filters.
    private var phrase: String { "\"" + query.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    private var ownerCondition: String { owner == nil ? "owner IS NULL" : "owner = ?" }
    private var ownerArguments: StatementArguments { owner.map { [$0] } ?? [] }

    private func fromMatches() throws -> [SessionSearchHit] {
        // The bare columns come from the row with the lowest seq: the title (-1) first.
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT s.*, search_text.text AS matched_text, min(r.seq) AS matched_seq
                FROM search_text JOIN search_rows r ON r.rowid = search_text.rowid JOIN sessions s ON s.id = r.session_id
                WHERE search_text MATCH ? AND s.\(ownerCondition)
                GROUP BY s.id ORDER BY s.updated_at DESC, s.id DESC LIMIT ?
                """,
            arguments: [phrase] + ownerArguments + [limit]
        )
        return try rows.map { row in try hit(session: row, text: row["matched_text"] ?? "") }
    }

    /// The walk; nil when it read `rowBudget` rows before finding `limit` sessions.
    private func newestFirst(rowBudget: Int?) throws -> [SessionSearchHit]? {
        guard limit > 0 else { return [] }
        let sessions = try Row.fetchCursor(
            db, sql: "SELECT * FROM sessions WHERE \(ownerCondition) ORDER BY updated_at DESC, id DESC", arguments: ownerArguments
        )
        // Not `LIKE`: SQLite 3.40's trigram index answers a LIKE of two non-ASCII characters with nothing.
        let texts = try db.cachedStatement(
            sql: """
                SELECT t.text, instr(lower(t.text), lower(?)) > 0 FROM search_rows r CROSS JOIN search_text t
                WHERE r.session_id = ? AND t.rowid = r.rowid ORDER BY r.seq
                """
        )
        var hits: [SessionSearchHit] = []
        var read = 0
        while let session = try sessions.next() {
            let rows = try Row.fetchCursor(texts, arguments: [query, session["id"] as String])
            while let row = try rows.next() {
                read += 1
                if let rowBudget, read > rowBudget { return nil }
                if row[1] as Bool {
                    hits.append(try hit(session: session, text: row[0]))
                    break
                }
            }
            if hits.count == limit { break }
        }
        return hits
    }

    private func fromEveryMatch() throws -> [SessionSearchHit] {
        let sessions = try Row.fetchAll(
            db,
            sql: """
                SELECT * FROM sessions s
                WHERE \(ownerCondition) AND EXISTS (
                  SELECT 1 FROM search_rows r
                  WHERE r.session_id = s.id AND r.rowid IN (SELECT rowid FROM search_text WHERE search_text MATCH ?))
                ORDER BY updated_at DESC, id DESC LIMIT ?
                """,
            arguments: ownerArguments + [phrase, limit]
        )
        let texts = try db.cachedStatement(
            sql: "SELECT t.text FROM search_rows r JOIN search_text t ON t.rowid = r.rowid WHERE r.session_id = ? ORDER BY r.seq"
        )
        return try sessions.map { session in
            let matched = try String.fetchAll(texts, arguments: [session["id"] as String]).first { SessionSearch.matches($0, query) }
            return try hit(session: session, text: matched ?? session["title"])
        }
    }

    private func hit(session row: Row, text: String) throws -> SessionSearchHit {
        SessionSearchHit(session: try SQLiteChatStore.sessionRecord(row), snippet: SessionSearch.snippet(of: text, around: query))
    }
}
