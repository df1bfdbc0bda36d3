import Foundation

/// A file a user attached to a message, as messages hold it: what it is, not its bytes
/// (those are in the store, by `id`, and reach the model only when it is called).
public struct Attachment: Sendable, Hashable, Codable {
    public var id: String
    /// Found from the bytes, never from the name: `image/png`, `application/pdf`, `text/csv`, …
    public var mediaType: String
    /// The file's name as the user had it (shown, and given to models that take documents).
    public var name: String
    /// Bytes.
    public var size: Int

    public init(id: String, mediaType: String, name: String, size: Int) {
        self.id = id
        self.mediaType = mediaType
        self.name = name
        self.size = size
    }

    enum CodingKeys: String, CodingKey {
        case id
        case mediaType = "media_type"
        case name, size
    }

    public var kind: Kind { mediaType.hasPrefix("image/") ? .image : .document }

    /// Plain text, Markdown or CSV: something a model without document support can read inline.
    public var isText: Bool { mediaType.hasPrefix("text/") }

    public enum Kind: String, Sendable, Codable {
        case image, document
    }

    /// The media types Kaiwa takes, and the short format names model APIs use for them.
    public static let formats: [String: String] = [
        "image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp",
        "application/pdf": "pdf", "text/plain": "txt", "text/markdown": "md", "text/csv": "csv",
    ]

    /// What `prefix` (the file's first bytes, at least 16 unless the file is shorter) says the
    /// file is; `name` only tells Markdown and CSV from plain text. `nil`: not a kind Kaiwa takes.
    public static func mediaType(sniffing prefix: some Collection<UInt8>, name: String) -> String? {
        let head = Array(prefix.prefix(16))
        func starts(_ bytes: [UInt8]) -> Bool { head.starts(with: bytes) }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "image/gif" }
        if head.count >= 12, starts(Array("RIFF".utf8)), Array(head[8..<12]) == Array("WEBP".utf8) { return "image/webp" }
        if starts(Array("%PDF-".utf8)) { return "application/pdf" }
        return nil
    }

    /// The text media type of a file whose bytes are UTF-8 text without NULs (checked by the
    /// caller over the whole file), from its name.
    public static func textMediaType(name: String) -> String {
        switch name.split(separator: ".").last?.lowercased() {
        case "md", "markdown": "text/markdown"
        case "csv": "text/csv"
        default: "text/plain"
        }
    }
}
