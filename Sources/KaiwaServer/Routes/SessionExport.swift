import Foundation
import Hummingbird
import KaiwaCore
import KaiwaStore

/// `GET /api/sessions/{id}/export`: one conversation as a file to keep or move: Markdown for
/// people (the branch the user is on), JSON (the session, every message of every branch with
/// its content blocks and parent, and the current branch) for machines.
enum SessionExport {
    enum Format: String {
        case json, md

        init(_ raw: String?) throws {
            guard let format = Format(rawValue: raw ?? "md") else {
                throw KaiwaError.badRequest("`format` must be json or md.")
            }
            self = format
        }
    }

    struct Document: Encodable {
        var format = "kaiwa.session.v1"
        var session: SessionJSON
        var messages: [MessageJSON]
        /// The ids of the branch the user is on, first to last.
        var path: [String]
    }

    static func response(_ session: SessionRecord, tree: ConversationTree, format: Format) throws -> Response {
        let branch = tree.path(to: tree.leaf(session.currentLeaf))
        var headers: HTTPFields = [:]
        // The id is letters, digits, - and _ (SessionID), safe in a header.
        headers[.contentDisposition] = "attachment; filename=\"kaiwa-\(session.id.rawValue).\(format.rawValue)\""
        switch format {
        case .json:
            let document = Document(session: .init(session), messages: tree.messages.map { .init($0, in: tree) }, path: branch.map(\.id))
            return try JSONResponse.make(document, headers: headers)
        case .md:
            headers[.contentType] = "text/markdown; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: markdown(session, branch))))
        }
    }

    /// `# Title`, then each message under a heading of who wrote it and when; tool calls and
    /// results are left out (they are in the JSON).
    static func markdown(_ session: SessionRecord, _ messages: [MessageRecord]) -> String {
        var text = "# \(session.title)\n\n"
        for message in messages {
            let words = message.content.plainText.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !words.isEmpty else { continue }
            let who = message.role == .user ? "You" : "Kaiwa" + (message.model.map { " (\($0))" } ?? "")
            let when = message.createdAt.formatted(Date.ISO8601FormatStyle())
            text += "## \(who) · \(when)\n\n\(words)\n\n"
            if message.status != .complete { text += "_(\(message.status.rawValue))_\n\n" }
        }
        return text
    }
}
