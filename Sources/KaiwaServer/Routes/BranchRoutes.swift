import Hummingbird
import KaiwaAgent
import KaiwaCore
import KaiwaStore

/// Branches of a conversation: send an edited question in place of an earlier one, write a
/// reply again, or switch to another branch. Edits and regenerations stream like
/// `/chat/stream`; what they replace stays as a sibling.
///
/// - `POST /api/sessions/{id}/messages/{message_id}/edit` `{"message": "…", "model"?: "…"}`
/// - `POST /api/sessions/{id}/messages/{message_id}/regenerate` `{"model"?: "…"}` (body optional)
/// - `PUT /api/sessions/{id}/branch` `{"message_id": "…"}`: the branch through that message
///   (down its newest replies) becomes the current one; answers the conversation as `GET` does.
struct BranchRoutes<Context: SubjectRequestContext> {
    let runner: ReplyRunner
    let maxBodyBytes: Int
    var store: any ChatStore { runner.chat.store }

    struct Edit: Decodable {
        var message: String
        var model: String?
        var attachments: [String]?
    }

    struct Regenerate: Decodable {
        var model: String?
    }

    struct Switch: Decodable {
        var messageID: String

        enum CodingKeys: String, CodingKey {
            case messageID = "message_id"
        }
    }

    func add(to router: Router<Context>) {
        let sessions = router.group("api/sessions")
        sessions.post(":id/messages/:message_id/edit") { request, context in
            let (id, messageID) = try Self.ids(context)
            let body = try await JSONBody.decode(Edit.self, from: request, limit: maxBodyBytes)
            var edit = ChatRequest(message: body.message, sessionID: id, model: body.model, subject: context.subject, branch: .edit(messageID: messageID))
            edit.attachments = body.attachments ?? []
            let reply = try await runner.start(edit)
            return ReplyStreamResponse.live(reply, after: 0, runner: runner, format: KaiwaSSEFormat())
        }
        sessions.post(":id/messages/:message_id/regenerate") { request, context in
            let (id, messageID) = try Self.ids(context)
            let body = try await JSONBody.decodeIfPresent(Regenerate.self, from: request, limit: maxBodyBytes) ?? Regenerate()
            let reply = try await runner.start(
                ChatRequest(message: "", sessionID: id, model: body.model, subject: context.subject, branch: .regenerate(messageID: messageID))
            )
            return ReplyStreamResponse.live(reply, after: 0, runner: runner, format: KaiwaSSEFormat())
        }
        sessions.put(":id/branch") { request, context in
            let id = try SessionID(validating: context.parameters.get("id") ?? "", maxLength: SessionID.maxStoredLength)
            let body = try await JSONBody.decode(Switch.self, from: request, limit: 16 * 1024)
            guard try await store.session(id, ownedBy: context.subject.owner) != nil else { throw KaiwaError.sessionNotFound(id) }
            // A reply being written moves the branch to itself when it is stored.
            if let running = runner.reply(in: id), !running.isFinished {
                throw KaiwaError(.conflict, "A reply is being written in this conversation; switch branches when it has finished.")
            }
            let tree = ConversationTree(try await store.messages(in: id))
            guard let chosen = tree.message(withID: body.messageID) else { throw KaiwaError.messageNotFound(body.messageID) }
            guard let session = try await store.setCurrentLeaf(tree.newestLeaf(under: chosen.sequence), of: id, owner: context.subject.owner) else {
                throw KaiwaError.sessionNotFound(id)
            }
            return JSONResponse.written(SessionDetail(session, tree: tree, page: .init(limit: 1000, before: nil), wholeTree: false).json())
        }
    }

    static func ids(_ context: Context) throws -> (SessionID, String) {
        let id = try SessionID(validating: context.parameters.get("id") ?? "", maxLength: SessionID.maxStoredLength)
        let message = context.parameters.get("message_id") ?? ""
        guard (1...128).contains(message.count) else { throw KaiwaError.badRequest("A message id is 1 to 128 characters.") }
        return (id, message)
    }
}
