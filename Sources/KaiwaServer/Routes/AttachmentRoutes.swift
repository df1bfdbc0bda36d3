import Foundation
import HTTPTypes
import Hummingbird
import KaiwaAgent
import KaiwaCore
import KaiwaStore

/// `POST /api/attachments?name=<file name>`: uploads a file to attach to a message; the body
/// is the file's bytes, with `Content-Length`. What it is comes from its bytes (PNG, JPEG,
/// GIF, WebP, PDF, or UTF-8 text: plain, Markdown or CSV by the name), never from the name or
/// the content type. It is stored as it arrives, a piece at a time. Answers 201 with the
/// file's `id`, which `attachments` of a chat request names.
struct AttachmentRoutes<Context: SubjectRequestContext> {
    let store: any ChatStore
    let settings: ChatSettings
    let clock: any WallClock

    struct Uploaded: Encodable {
        var id: String
        var mediaType: String
        var name: String
        var size: Int
        var kind: String
    }

    func add(to router: Router<Context>) {
        addDownload(to: router)
        router.post("api/attachments") { request, context in
            let name = try Self.fileName(request.uri.queryParameters["name"].map(String.init))
            guard let declared = request.headers[.contentLength].flatMap({ Int($0) }) else {
                throw KaiwaError.badRequest("Send the file's bytes as the body, with a Content-Length header.")
            }
            guard declared > 0 else { throw KaiwaError.badRequest("The file is empty.") }
            guard declared <= settings.maxAttachmentBytes else {
                throw KaiwaError(.payloadTooLarge, "The file is \(declared) bytes; files of at most \(settings.maxAttachmentBytes) bytes can be attached.")
            }
            let reader = UploadReader(request.body)
            let head = try await reader.sniff()
            let mediaType = Attachment.mediaType(sniffing: head, name: name)
            guard mediaType != nil || TextCheck.mayBeText(head) else { throw Self.unsupported(name) }
            await reader.checkText(mediaType == nil)
            let file = Attachment(id: UUIDString.random(), mediaType: mediaType ?? Attachment.textMediaType(name: name), name: name, size: declared)
            do {
                try await store.saveAttachment(AttachmentRecord(attachment: file, owner: context.subject.owner, createdAt: clock.now())) {
                    try await reader.next()
                }
            } catch is TextCheck.NotText {
                throw Self.unsupported(name)
            } catch let mismatch as AttachmentSizeMismatch {
                throw KaiwaError.badRequest("The body was not the \(declared) bytes Content-Length said: \(mismatch.received) came.")
            }
            var headers = HTTPFields()
            headers[.location] = "/api/attachments/\(file.id)"
            return try JSONResponse.make(
                Uploaded(id: file.id, mediaType: file.mediaType, name: file.name, size: file.size, kind: file.kind.rawValue),
                status: .created, headers: headers
            )
        }
    }

    /// `GET /api/attachments/{id}`: the uploader's file, as what it is. Images are shown in
    /// place; other files are downloaded. Nothing in them runs on the page (`sandbox`, `nosniff`).
    func addDownload(to router: Router<Context>) {
        router.get("api/attachments/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard (1...128).contains(id.count), let record = try await store.attachmentRecord(id, owner: context.subject.owner),
                let data = try await store.attachmentData(id, owner: context.subject.owner)
            else { throw KaiwaError.notFound("There is no attached file \(id.prefix(128)).") }
            let file = record.attachment
            var headers = HTTPFields()
            headers[.contentType] = file.isText ? "\(file.mediaType); charset=utf-8" : file.mediaType
            let encodedName = file.name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "file"
            headers[.contentDisposition] = "\(file.kind == .image ? "inline" : "attachment"); filename*=UTF-8''\(encodedName)"
            headers[.contentSecurityPolicy] = "sandbox; default-src 'none'"
            headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            headers[.cacheControl] = "private, max-age=86400"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }

    static func unsupported(_ name: String) -> KaiwaError {
        KaiwaError(
            .unsupportedMediaType,
            "\(name) is not a file Kaiwa can attach: attach PNG, JPEG, GIF or WebP images, PDF documents, or UTF-8 text (plain, Markdown, CSV)."
        )
    }

    /// The name as shown: 1 to 200 characters without control characters or path separators.
    static func fileName(_ raw: String?) throws -> String {
        let name = (raw ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(name.count),
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "/" || $0 == "\\" })
        else { throw KaiwaError.badRequest("`name` must be the file's name: 1 to 200 characters, without / or \\.") }
        return name
    }
}

/// Reads an upload's body for the store one piece at a time: first the bytes read to tell
/// what the file is, then the rest as it arrives, checking text files as they pass.
actor UploadReader {
    private var iterator: RequestBody.AsyncIterator
    private var head = Data()
    private var text: TextCheck?

    init(_ body: RequestBody) {
        iterator = body.makeAsyncIterator()
    }

    /// The file's first bytes (16, or all of a shorter file), kept to be handed out first.
    func sniff() async throws -> Data {
        while head.count < 16, let buffer = try await nextBuffer() {
            head.append(contentsOf: buffer.readableBytesView)
        }
        return head
    }

    /// The body's next buffer. The iterator is taken out for the wait and put back: one caller
    /// at a time reads (the store asks for a piece once the last is stored).
    private func nextBuffer() async throws -> ByteBuffer? {
        var reading = iterator
        defer { iterator = reading }
        return try await reading.next(isolation: self)
    }

    func checkText(_ check: Bool) {
        text = check ? TextCheck() : nil
    }

    func next() async throws -> Data? {
        var piece: Data
        if !head.isEmpty {
            piece = head
            head = Data()
        } else if let buffer = try await nextBuffer() {
            piece = Data(buffer.readableBytesView)
        } else {
            try text?.finish()
            return nil
        }
        try text?.check(&piece)
        return piece
    }
}

/// Checks, a piece at a time, that a file is UTF-8 text without NUL bytes.
struct TextCheck {
    struct NotText: Error {}
    /// The start of a character cut at the end of the last piece.
    private var carry: [UInt8] = []

    static func mayBeText(_ head: Data) -> Bool {
        !head.contains(0)
    }

    mutating func check(_ piece: inout Data) throws {
        var bytes = carry + piece
        // Keep back a character cut at the end (up to 3 bytes of its start).
        var cut = bytes.count
        for back in 1...min(3, bytes.count) {
            let byte = bytes[bytes.count - back]
            if byte & 0b1100_0000 == 0b1100_0000 {
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
                if length > back { cut = bytes.count - back }
                break
            }
            if byte & 0b1000_0000 == 0 { break }
        }
        carry = Array(bytes[cut...])
        bytes.removeSubrange(cut...)
        guard !bytes.contains(0), String(validating: bytes, as: UTF8.self) != nil else { throw NotText() }
    }

    func finish() throws {
        guard carry.isEmpty else { throw NotText() }
    }
}
