import Foundation
import GRDB

/// `kaiwa store backup`: a copy of a SQLite store made with SQLite's online backup, while a
/// server may be writing to it (the copy is one consistent moment of the database).
public enum SQLiteBackup {
    public struct Copy: Sendable {
        public var bytes: Int
        public var sessions: Int
        public var messages: Int
    }

    /// Copies the database at `source` to a new file `destination` (which must not exist) and
    /// checks the copy (`PRAGMA integrity_check`).
    public static func copy(from source: String, to destination: String) throws -> Copy {
        guard FileManager.default.fileExists(atPath: source) else {
            throw KaiwaBackupError("there is no SQLite database at \(source)")
        }
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw KaiwaBackupError("\(destination) exists already; give a new file (a backup never overwrites)")
        }
        var readOnly = Configuration()
        readOnly.readonly = true
        let database = try DatabasePool(path: source, configuration: readOnly)
        let copy = try DatabaseQueue(path: destination)
        try database.backup(to: copy)
        return try copy.read { db in
            let check = try String.fetchOne(db, sql: "PRAGMA integrity_check")
            guard check == "ok" else { throw KaiwaBackupError("the copy failed its integrity check: \(check ?? "no answer")") }
            return Copy(
                bytes: (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0,
                sessions: try Int.fetchOne(db, sql: "SELECT count(*) FROM sessions") ?? 0,
                messages: try Int.fetchOne(db, sql: "SELECT count(*) FROM messages") ?? 0
            )
        }
    }
}

/// A backup that could not be made, and why.
public struct KaiwaBackupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
