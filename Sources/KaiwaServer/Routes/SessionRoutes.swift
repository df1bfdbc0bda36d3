import Foundation
import Hummingbird
import KaiwaAgent
import KaiwaCore
import KaiwaStore

/// `/api/sessions`: the caller's conversations: list them, read one, delete one. Someone
/// else's session is answered as a missing one.
struct SessionRoutes<Context: SubjectRequestContext> {
    let runner: ReplyRunner
    var store: any ChatStore { runner.chat.store }

    struct SessionSummary: Encodable {
        var id: String
        var title: String
        var agent: String
        var createdAt: Date
        var updatedAt: Date

        init(_ record: SessionRecord) {
            id = record.id.rawValue
            title = record.title
            agent = record.agent
            createdAt = record.createdAt
            updatedAt = record.updatedAt
        }
    }

    struct SessionList: Encodable {
        var sessions: [SessionSummary]
        /// Pass as `cursor` to get the next page; absent on the last page.
        var nextCursor: String?
    }

    struct Message: Encodable {
        var id: String
        var seq: Int
        var role: String
        /// The message's text, for clients that do not care about blocks.
        var text: String
        var content: [ContentBlock]
        var model: String?
        var status: String
        var usage: TokenUsage?
        /// What the reply cost in US dollars, when its model's prices are known.
        var costUSD: Double?
        var createdAt: Date

        init(_ record: MessageRecord) {
            id = record.id
            seq = record.sequence
            role = record.role.rawValue
            text = record.content.plainText
            content = record.content
            model = record.model
            status = record.status.rawValue
            usage = record.usage
            costUSD = record.costUSD
            createdAt = record.createdAt
        }
    }

    struct SessionDetail: Encodable {
        var id: String
        var title: String
        var agent: String
        var createdAt: Date
        var updatedAt: Date
        var messages: [Message]
        /// Pass as `before` for the page of messages before these; absent on the first page.
        var nextBefore: Int?
    }

    func add(to router: Router<Context>) {
        let sessions = router.group("api/sessions")
        sessions.get { request, context in
            let limit = try Self.limit(from: request)
            let cursor = try request.uri.queryParameters["cursor"].map { try Self.decodeCursor(String($0)) }
            let page = try await store.listSessions(owner: context.subject.owner, limit: limit + 1, after: cursor)
            let shown = Array(page.prefix(limit))
            let next = page.count > limit ? shown.last.map { Self.encodeCursor(SessionCursor(after: $0)) } : nil
            return try JSONResponse.make(SessionList(sessions: shown.map(SessionSummary.init), nextCursor: next))
        }
        sessions.get(":id") { request, context in
            let id = try SessionID(validating: context.parameters.get("id") ?? "", maxLength: SessionID.maxStoredLength)
            let (limit, before) = try Self.messagePage(from: request)
            guard let session = try await store.session(id, ownedBy: context.subject.owner) else { throw KaiwaError.sessionNotFound(id) }
            // One more than asked for tells whether earlier messages remain.
            var messages = try await store.messages(in: id, before: before, limit: limit + 1)
            // A question without an answer may be one whose server went away mid-reply.
            if before == nil, messages.last?.role == .user, try await runner.settleInterruptedReply(in: id) {
                messages = try await store.messages(in: id, before: nil, limit: limit + 1)
            }
            let hasEarlier = messages.count > limit
            if hasEarlier { messages.removeFirst() }
            return try JSONResponse.make(
                SessionDetail(
                    id: id.rawValue, title: session.title, agent: session.agent, createdAt: session.createdAt,
                    updatedAt: session.updatedAt, messages: messages.map(Message.init),
                    nextBefore: hasEarlier ? messages.first?.sequence : nil
                )
            )
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

    /// `limit` (messages per page, newest first; 1–1000, default 200) and `before` (a position
    /// from `next_before`) of a conversation's page.
    static func messagePage(from request: Request) throws -> (limit: Int, before: Int?) {
        var limit = 200
        if let raw = request.uri.queryParameters["limit"] {
            guard let value = Int(String(raw)), (1...1000).contains(value) else {
                throw KaiwaError.badRequest("`limit` must be a whole number from 1 to 1000.")
            }
            limit = value
        }
        guard let raw = request.uri.queryParameters["before"] else { return (limit, nil) }
        guard let before = Int(String(raw)), before >= 1 else {
            throw KaiwaError.badRequest("`before` must be a message position (`next_before` of the page after).")
        }
        return (limit, before)
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
