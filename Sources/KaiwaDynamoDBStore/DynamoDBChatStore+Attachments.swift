import Foundation
import KaiwaCore
import KaiwaStore

/// Attachments are not kept with DynamoDB yet (their bytes belong in S3, not in items of at
/// most 400 KB): uploads are refused with a sentence that says so, and nothing is found.
extension DynamoDBChatStore {
    public func saveAttachment(_ record: AttachmentRecord, chunks: AttachmentChunks) async throws {
        throw KaiwaError.badRequest("This server keeps conversations in DynamoDB, where attachments are not available yet.")
    }

    public func attachmentRecord(_ id: String, owner: String?) async throws -> AttachmentRecord? { nil }

    public func attachmentData(_ id: String, owner: String?) async throws -> Data? { nil }
}
