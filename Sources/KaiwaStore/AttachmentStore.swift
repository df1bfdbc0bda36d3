import Foundation
import KaiwaCore
import Synchronization

/// A stored file and who uploaded it.
public struct AttachmentRecord: Sendable, Hashable {
    public var attachment: Attachment
    /// Who uploaded it; only they may attach it to a message or read it back. `nil`: the local user.
    public var owner: String?
    public var createdAt: Date

    public init(attachment: Attachment, owner: String?, createdAt: Date) {
        self.attachment = attachment
        self.owner = owner
        self.createdAt = createdAt
    }
}

/// The bytes of files users attach to messages, kept apart from the messages that name them.
/// They follow the conversations' retention (the sweep removes files older than its cutoff)
/// and go when the conversation that names them is deleted.
public protocol AttachmentStore: Sendable {
    /// Stores a file's bytes, asking `chunks` for the next piece when it has stored the last
    /// (so a store holds one piece at a time, not the file). Throws, keeping nothing, when
    /// `chunks` throws or does not come to `record.attachment.size` bytes. A file is readable
    /// only once all of it is stored.
    func saveAttachment(_ record: AttachmentRecord, chunks: @escaping AttachmentChunks) async throws

    /// The file's record, if `owner` uploaded it and it is stored whole.
    func attachmentRecord(_ id: String, owner: String?) async throws -> AttachmentRecord?

    /// The file's bytes, if `owner` uploaded it and it is stored whole.
    func attachmentData(_ id: String, owner: String?) async throws -> Data?
}

/// The byte count a file was declared with and the count that came differ.
public struct AttachmentSizeMismatch: Error, CustomStringConvertible {
    public var declared: Int
    public var received: Int
    public var description: String { "the file was to be \(declared) bytes but \(received) came" }

    public init(declared: Int, received: Int) {
        self.declared = declared
        self.received = received
    }
}

/// The next piece of a file being stored; `nil` at its end.
public typealias AttachmentChunks = @Sendable () async throws -> Data?

/// The pieces of `data`, for stores and tests that have the bytes at hand.
public func attachmentChunks(of data: Data, size: Int = 64 * 1024) -> AttachmentChunks {
    let offset = Mutex(0)
    return {
        offset.withLock { start in
            guard start < data.count else { return nil }
            let end = Swift.min(start + size, data.count)
            defer { start = end }
            return data.subdata(in: start..<end)
        }
    }
}
