import Foundation
import GRDB
import GRDBSQLite
import KaiwaCore

/// Reads message rows straight from SQLite's statement: a conversation of a thousand messages
/// is twelve thousand columns, and GRDB's generic `Row` decoding spent a third of the time of
/// opening it on looking up type metadata for each.
enum SQLiteMessageRows {
    /// The columns `record(at:)` reads, in that order.
    static let columns = "id, session_id, seq, role, content, model, status, input_tokens, output_tokens, cost_usd, created_at, parent_seq"

    /// Every row `sql` selects (`columns`, with `arguments`) as a message.
    static func fetch(_ db: Database, sql: String, arguments: StatementArguments) throws -> [MessageRecord] {
        let statement = try db.cachedStatement(sql: sql)
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        var records: [MessageRecord] = []
        while try rows.next() != nil {
            records.append(try record(at: Columns(statement: statement.sqliteStatement)))
        }
        return records
    }

    private static func record(at row: Columns) throws -> MessageRecord {
        let id = row.text(0) ?? ""
        guard let roleName = row.text(3), let role = Role(rawValue: roleName) else {
            throw StoreCorruption(row: id, problem: "unknown role \(row.text(3) ?? "NULL")")
        }
        guard let statusName = row.text(6), let status = MessageStatus(rawValue: statusName) else {
            throw StoreCorruption(row: id, problem: "unknown status \(row.text(6) ?? "NULL")")
        }
        guard let sequence = row.integer(2), let created = row.integer(10), let session = row.text(1) else {
            throw StoreCorruption(row: id, problem: "no position, session or time")
        }
        let inputTokens = row.integer(7)
        let outputTokens = row.integer(8)
        return MessageRecord(
            id: id,
            sessionID: SessionID(trusted: session),
            sequence: Int(sequence),
            role: role,
            content: try row.withText(4) { try StoredContent.decode(utf8: $0, row: id) },
            model: row.text(5),
            status: status,
            usage: inputTokens.flatMap { input in outputTokens.map { TokenUsage(inputTokens: Int(input), outputTokens: Int($0)) } },
            costUSD: row.isNull(9) ? nil : sqlite3_column_double(row.statement, 9),
            createdAt: Date(millis: created),
            parentSequence: row.integer(11).map(Int.init)
        )
    }

    /// The current row of a stepped statement.
    private struct Columns {
        let statement: OpaquePointer

        func isNull(_ index: Int32) -> Bool { sqlite3_column_type(statement, index) == SQLITE_NULL }

        func integer(_ index: Int32) -> Int64? {
            isNull(index) ? nil : sqlite3_column_int64(statement, index)
        }

        func text(_ index: Int32) -> String? {
            isNull(index) ? nil : withText(index) { String(decoding: $0, as: UTF8.self) }
        }

        /// The column's text in place (empty for NULL), valid only inside `body`.
        func withText<T>(_ index: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
            let start = sqlite3_column_text(statement, index)
            return try body(UnsafeBufferPointer(start: start, count: start == nil ? 0 : Int(sqlite3_column_bytes(statement, index))))
        }
    }
}
