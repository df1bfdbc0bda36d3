import Foundation
import GRDB
import KaiwaCore

/// Attachments in SQLite: a row per file, its bytes in pieces of `pieceSize` in a table of
/// their own, each piece written in its own short transaction as it arrives, so that a
/// slow upload neither holds the writer nor the whole file in memory.
extension SQLiteChatStore {
    static let pieceSize = 256 * 1024

    public func saveAttachment(_ record: AttachmentRecord, chunks: @escaping AttachmentChunks) async throws {
        let file = record.attachment
        try await writer.write { db in
            try db.execute(
                sql: "INSERT INTO attachments (id, owner, media_type, name, size, created_at, complete) VALUES (?, ?, ?, ?, ?, ?, 0)",
                arguments: [file.id, record.owner, file.mediaType, file.name, file.size, record.createdAt.millis]
            )
        }
        do {
            var piece = Data()
            var index = 0
            var received = 0
            func store(_ bytes: Data) async throws {
                let n = index
                try await writer.write { db in
                    try db.execute(sql: "INSERT INTO attachment_pieces (attachment_id, n, bytes) VALUES (?, ?, ?)", arguments: [file.id, n, bytes])
                }
                index += 1
            }
            while let chunk = try await chunks() {
                received += chunk.count
                guard received <= file.size else { throw AttachmentSizeMismatch(declared: file.size, received: received) }
                piece.append(chunk)
                if piece.count >= Self.pieceSize {
                    try await store(piece)
                    piece = Data()
                }
            }
            if !piece.isEmpty { try await store(piece) }
            guard received == file.size else { throw AttachmentSizeMismatch(declared: file.size, received: received) }
            try await writer.write { db in try db.execute(sql: "UPDATE attachments SET complete = 1 WHERE id = ?", arguments: [file.id]) }
        } catch {
            try? await writer.write { db in try db.execute(sql: "DELETE FROM attachments WHERE id = ?", arguments: [file.id]) }
            throw error
        }
    }

    public func attachmentRecord(_ id: String, owner: String?) async throws -> AttachmentRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM attachments WHERE id = ? AND owner IS ? AND complete = 1", arguments: [id, owner]).map { row in
                AttachmentRecord(
                    attachment: Attachment(id: row["id"], mediaType: row["media_type"], name: row["name"], size: row["size"]),
                    owner: row["owner"], createdAt: Date(millis: row["created_at"])
                )
            }
        }
    }

    public func attachmentData(_ id: String, owner: String?) async throws -> Data? {
        try await read { db in
            guard let size = try Int.fetchOne(db, sql: "SELECT size FROM attachments WHERE id = ? AND owner IS ? AND complete = 1", arguments: [id, owner])
            else { return nil }
            var data = Data(capacity: size)
            let pieces = try Row.fetchCursor(db, sql: "SELECT bytes FROM attachment_pieces WHERE attachment_id = ? ORDER BY n", arguments: [id])
            while let row = try pieces.next() {
                try row.withUnsafeData(atIndex: 0) { bytes in if let bytes { data.append(bytes) } }
            }
            guard data.count == size else { throw StoreCorruption(row: "attachment \(id)", problem: "\(data.count) bytes stored of \(size)") }
            return data
        }
    }
}
