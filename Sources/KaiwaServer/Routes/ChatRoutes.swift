import Hummingbird
import KaiwaAgent
import KaiwaCore
import KaiwaStore

/// `POST /chat` (the collected reply, seeds 000/001) and `POST /chat/stream` (the same reply
/// as Server-Sent Events).
struct ChatRoutes<Context: SubjectRequestContext> {
    let runner: ReplyRunner
    let maxBodyBytes: Int

    struct Reply: Encodable {
        var response: String
        var sessionId: String
        var messageId: String?
        var model: String?
        var usage: TokenUsage?
        var costUSD: Double?
    }

    func add(to router: Router<Context>) {
        router.post("/chat") { request, context in
            let body = try await JSONBody.decode(ChatRequestBody.self, from: request, limit: maxBodyBytes)
            let reply = try await runner.start(try body.chatRequest(from: context.subject))
            let collected = try await CollectedReply.collect(reply, runner: runner)
            return try JSONResponse.make(
                Reply(
                    response: collected.text,
                    sessionId: reply.sessionID.rawValue,
                    messageId: collected.messageID,
                    model: collected.model,
                    usage: collected.usage,
                    costUSD: collected.costUSD
                )
            )
        }
        router.post("/chat/stream") { request, context in
            let body = try await JSONBody.decode(ChatRequestBody.self, from: request, limit: maxBodyBytes)
            let reply = try await runner.start(try body.chatRequest(from: context.subject))
            return ReplyStreamResponse.live(reply, after: 0, runner: runner, format: KaiwaSSEFormat())
        }
    }
}
