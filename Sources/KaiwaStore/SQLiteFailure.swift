import GRDB
import KaiwaCore
import Logging

/// SQLite failures that are the disk's or the file's, not the caller's: a full disk, an I/O
/// error, a file that cannot be opened or written, a lock held too long. Callers get
/// `store_unavailable` (503) for them instead of an internal error; SQLite rolls the failed
/// transaction back, so what was stored before stays as it was, and the next write tries again.
enum SQLiteFailure {
    static func translate(_ error: any Error) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        let reason: String
        switch error.resultCode {
        case .SQLITE_FULL: reason = "the database's disk is full"
        case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM: reason = "the database file cannot be written"
        case .SQLITE_BUSY, .SQLITE_LOCKED: reason = "the database is busy"
        case .SQLITE_NOMEM: reason = "the database ran out of memory"
        default: return error
        }
        logger.error("SQLite failed", metadata: ["error": "\(error)"])
        return KaiwaError.storeUnavailable(reason)
    }

    private static let logger = Logger(label: "kaiwa.store")
}

extension SQLiteChatStore {
    /// Reads in a snapshot of the database, with failures of the disk translated; traced as
    /// the calling store method.
    func read<T: Sendable>(caller: String = #function, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await StoreSpans.sqlite(caller) {
            do {
                return try await pool.read(body)
            } catch {
                throw SQLiteFailure.translate(error)
            }
        }
    }
}
