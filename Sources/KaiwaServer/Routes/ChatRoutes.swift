import Hummingbird
import KaiwaAgent
import KaiwaCore
import KaiwaStore
import Synchronization

/// `POST /chat`: seed 000/001's request–response chat, the collected form of the reply's
/// event stream.
struct ChatRoutes<Context: RequestContext> {
    let chat: ChatService
    let maxBodyBytes: Int

    /// `{"message": "…", "session_id"?: "…", "agent"?: "…"}`
    struct Body: Decodable {
        var message: String
        var sessionID: String?
        var agent: String?

        enum CodingKeys: String, CodingKey {
            case message
            case sessionID = "session_id"
            case agent
        }

        func chatRequest() throws -> ChatRequest {
            ChatRequest(
                message: message,
                sessionID: try sessionID.map { try SessionID(validating: $0) },
                agent: agent
            )
        }
    }

    struct Reply: Encodable {
        var response: String
        var sessionId: String
        var messageId: String?
        var model: String
        var usage: TokenUsage?
    }

    func add(to router: Router<Context>) {
        router.post("/chat") { request, _ in
            let body = try await JSONBody.decode(Body.self, from: request, limit: maxBodyBytes)
            let turn = try await chat.begin(try body.chatRequest())
            let usage = Mutex<TokenUsage?>(nil)
            let outcome = await chat.run(turn) { event in
                if case .usage(let reported) = event.event { usage.withLock { $0 = reported } }
            }
            if let error = outcome.error { throw error }
            return try JSONResponse.make(
                Reply(
                    response: outcome.text,
                    sessionId: turn.session.id.rawValue,
                    messageId: outcome.message?.id,
                    model: chat.model.modelID,
                    usage: usage.withLock { $0 }
                )
            )
        }
    }
}
