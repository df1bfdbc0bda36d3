import Foundation
import Hummingbird
import KaiwaAgent
import KaiwaCore
import KaiwaStore

/// `/api/sessions`: the caller's conversations: list or search them, read one, rename one,
/// export one, delete one. Someone else's session is answered as a missing one.
struct SessionRoutes<Context: SubjectRequestContext> {
    let runner: ReplyRunner
    var store: any ChatStore { runner.chat.store }

    struct Rename: Decodable {
        var title: String
    }

    struct SessionList: Encodable {
        var sessions: [SessionJSON]
        /// Pass as `cursor` to get the next page; absent on the last page.
        var nextCursor: String?
    }

    func add(to router: Router<Context>) {
        let sessions = router.group("api/sessions")
        sessions.get { request, context in
            let limit = try Self.limit(from: request)
            if let query = try Self.searchQuery(from: request) {
                let hits = try await store.searchSessions(owner: context.subject.owner, matching: query, limit: limit)
                return try JSONResponse.make(SessionList(sessions: hits.map { SessionJSON($0.session, snippet: $0.snippet) }))
            }
            let cursor = try request.uri.queryParameters["cursor"].map { try Self.decodeCursor(String($0)) }
            let page = try await store.listSessions(owner: context.subject.owner, limit: limit + 1, after: cursor)
            let shown = Array(page.prefix(limit))
            let next = page.count > limit ? shown.last.map { Self.encodeCursor(SessionCursor(after: $0)) } : nil
            return try JSONResponse.make(SessionList(sessions: shown.map { SessionJSON($0) }, nextCursor: next))
        }
        sessions.get(":id") { request, context in
            let id = try SessionID(validating: context.parameters.get("id") ?? "", maxLength: SessionID.maxStoredLength)
            let page = try Self.messagePage(from: request)
            let wholeTree = try Self.flag("tree", in: request)
            guard var session = try await store.session(id, ownedBy: context.subject.owner) else { throw KaiwaError.sessionNotFound(id) }
            var tree = ConversationTree(try await store.messages(in: id))
            // A question without an answer may be one whose server went away mid-reply.
            if tree.leaf(session.currentLeaf).flatMap(tree.message(at:))?.role == .user, try await runner.settleInterruptedReply(in: id) {
                session = try await store.session(id) ?? session
                tree = ConversationTree(try await store.messages(in: id))
            }
            return JSONResponse.written(SessionDetail(session, tree: tree, page: page, wholeTree: wholeTree).json())
        }
        sessions.patch(":id") { request, context in
            let id = try SessionID(validating: context.parameters.get("id") ?? "", maxLength: SessionID.maxStoredLength)
            let title = try Self.title(try await JSONBody.decode(Rename.self, from: request, limit: 16 * 1024).title)
            guard let renamed = try await store.renameSession(id, owner: context.subject.owner, title: title) else {
                throw KaiwaError.sessionNotFound(id)
            }
            return try JSONResponse.make(SessionJSON(renamed))
        }
        sessions.get(":id/export") { request, context in
            let id = try SessionID(validating: context.parameters.get("id") ?? "", maxLength: SessionID.maxStoredLength)
            let format = try SessionExport.Format(request.uri.queryParameters["format"].map(String.init))
            guard let session = try await store.session(id, ownedBy: context.subject.owner) else { throw KaiwaError.sessionNotFound(id) }
            return try SessionExport.response(session, tree: ConversationTree(try await store.messages(in: id)), format: format)
        }
        sessions.delete(":id") { _, context in
            let id = try SessionID(validating: context.parameters.get("id") ?? "", maxLength: SessionID.maxStoredLength)
            guard try await store.deleteSession(id, owner: context.subject.owner) else { throw KaiwaError.sessionNotFound(id) }
            return Response(status: .noContent)
        }
    }

    static func limit(from request: Request) throws -> Int {
        guard let raw = request.uri.queryParameters["limit"] else { return 50 }
        guard let limit = Int(String(raw)), (1...200).contains(limit) else {
            throw KaiwaError.badRequest("`limit` must be a whole number from 1 to 200.")
        }
        return limit
    }

    /// `q`: what to search for; `nil` when absent (a listing).
    static func searchQuery(from request: Request) throws -> String? {
        guard let raw = request.uri.queryParameters["q"] else { return nil }
        let query = String(raw).trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...SessionSearch.maxQueryLength).contains(query.count), !query.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw KaiwaError.badRequest("`q` must be 1 to \(SessionSearch.maxQueryLength) characters of text.")
        }
        return query
    }

    /// A title a person gave: 1 to 200 characters on one line, spaces trimmed.
    static func title(_ raw: String) throws -> String {
        let title = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(title.count), !title.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw KaiwaError.badRequest("`title` must be 1 to 200 characters on one line.")
        }
        return title
    }

    /// `limit` (messages per page, newest first; 1–1000, default 200) and `before` (a position
    /// from `next_before`) of a conversation's page.
    static func messagePage(from request: Request) throws -> SessionDetail.Page {
        var limit = 200
        if let raw = request.uri.queryParameters["limit"] {
            guard let value = Int(String(raw)), (1...1000).contains(value) else {
                throw KaiwaError.badRequest("`limit` must be a whole number from 1 to 1000.")
            }
            limit = value
        }
        guard let raw = request.uri.queryParameters["before"] else { return .init(limit: limit) }
        guard let before = Int(String(raw)), before >= 1 else {
            throw KaiwaError.badRequest("`before` must be a message position (`next_before` of the page after).")
        }
        return .init(limit: limit, before: before)
    }

    /// A query parameter that is `true` or `false` (absent: false).
    static func flag(_ name: String, in request: Request) throws -> Bool {
        guard let raw = request.uri.queryParameters[Substring(name)] else { return false }
        guard let value = Bool(String(raw)) else { throw KaiwaError.badRequest("`\(name)` must be true or false.") }
        return value
    }

    /// Cursors are `<updated_at in ms>.<session id>`: opaque to clients, checked on the way in.
    static func encodeCursor(_ cursor: SessionCursor) -> String {
        "\(cursor.updatedAt.millis).\(cursor.id.rawValue)"
    }

    static func decodeCursor(_ raw: String) throws -> SessionCursor {
        let parts = raw.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let millis = Int64(parts[0]), let id = try? SessionID(validating: String(parts[1])) else {
            throw KaiwaError.badRequest("`cursor` is not one this server gave out.")
        }
        return SessionCursor(updatedAt: Date(millis: millis), id: id)
    }
}
