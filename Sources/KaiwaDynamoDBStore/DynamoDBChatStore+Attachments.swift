import Foundation
import KaiwaAWS
import KaiwaCore
import KaiwaStore

/// Where a DynamoDB deployment keeps attached files: objects in S3 (an item holds at most
/// 400 KB), one per file at `prefix + id`, with the uploader, name and time as object metadata.
public struct AttachmentObjects: Sendable {
    public let s3: S3Client
    public let prefix: String

    public init(s3: S3Client, prefix: String) {
        self.s3 = s3
        self.prefix = prefix
    }

    func key(_ id: String) -> String { prefix + id }
}

/// Attachments in S3. Retention is the bucket's lifecycle rule (the templates expire objects
/// under the prefix after the retention period); a deleted conversation's files are deleted with it.
extension DynamoDBChatStore {
    private func objects() throws -> AttachmentObjects {
        guard let attachmentObjects else {
            throw KaiwaError.badRequest(
                "This server keeps conversations in DynamoDB and has no S3 bucket for attached files (attachments.s3.bucket), so files cannot be attached."
            )
        }
        return attachmentObjects
    }

    public func saveAttachment(_ record: AttachmentRecord, chunks: @escaping AttachmentChunks) async throws {
        let objects = try objects()
        let file = record.attachment
        var metadata = [
            "name": SigV4Signer.encode(file.name), "created": String(record.createdAt.millis), "media-type": file.mediaType,
        ]
        if let owner = StoredItems.owner(record.owner) { metadata["owner"] = SigV4Signer.encode(owner) }
        // Counted on the way: a body that is not the declared size fails the upload, and S3 keeps nothing.
        let counter = ByteCounter(expected: file.size)
        do {
            try await objects.s3.putObject(key: objects.key(file.id), size: file.size, contentType: file.mediaType, metadata: metadata) {
                try await counter.pass(try await chunks())
            }
        } catch {
            if let mismatch = await counter.mismatch { throw mismatch }
            throw error
        }
    }

    public func attachmentRecord(_ id: String, owner: String?) async throws -> AttachmentRecord? {
        guard let objects = attachmentObjects, let head = try await objects.s3.headObject(key: objects.key(id)) else { return nil }
        let meta = head.metadata
        let storedOwner = meta["owner"]?.removingPercentEncoding
        guard storedOwner == StoredItems.owner(owner), let type = meta["media-type"], let name = meta["name"]?.removingPercentEncoding,
            let created = meta["created"].flatMap(Int64.init)
        else { return nil }
        guard let size = head.size else { return nil }
        return AttachmentRecord(attachment: Attachment(id: id, mediaType: type, name: name, size: size), owner: storedOwner, createdAt: Date(millis: created))
    }

    public func attachmentData(_ id: String, owner: String?) async throws -> Data? {
        guard let objects = attachmentObjects, try await attachmentRecord(id, owner: owner) != nil else { return nil }
        return try await objects.s3.getObject(key: objects.key(id), limit: 100 * 1024 * 1024)
    }

    /// Deletes the files the session's messages name.
    func deleteAttachments(of session: SessionID) async throws {
        guard let objects = attachmentObjects else { return }
        for file in try await messages(in: session).flatMap(\.content.attachments) {
            try await objects.s3.deleteObject(key: objects.key(file.id))
        }
    }
}

/// Counts the bytes of an upload as they pass, failing when there are more or fewer than expected.
actor ByteCounter {
    let expected: Int
    private var received = 0
    private(set) var mismatch: AttachmentSizeMismatch?

    init(expected: Int) {
        self.expected = expected
    }

    func pass(_ piece: Data?) throws -> Data? {
        received += piece?.count ?? 0
        if received > expected || (piece == nil && received < expected) {
            mismatch = AttachmentSizeMismatch(declared: expected, received: received)
            throw mismatch!
        }
        return piece
    }
}
