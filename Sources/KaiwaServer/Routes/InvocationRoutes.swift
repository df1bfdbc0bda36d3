import Foundation
import HTTPTypes
import Hummingbird
import KaiwaAgent
import KaiwaCore
import KaiwaStore

/// The AgentCore Runtime contract (seeds 001 and 003): `POST /invocations`.
///
/// The body is `{"prompt": "…"}` or `{"messages": [{"role", "content"}, …]}`; the session comes
/// from the `X-Amzn-Bedrock-AgentCore-Runtime-Session-Id` header, else `session_id`, else is
/// new. Clients that accept `text/event-stream` get the reply as AgentCore-style SSE; others
/// get `{"response", "session_id"}`.
struct InvocationRoutes<Context: SubjectRequestContext> {
    let runner: ReplyRunner
    let maxBodyBytes: Int

    static var sessionHeader: HTTPField.Name { HTTPField.Name("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id")! }

    struct Body: Decodable {
        struct Message: Decodable {
            var role: String
            var content: Content
        }

        /// A message's content: a string, or a list of `{"text": …}` blocks.
        struct Content: Decodable {
            var text: String

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) {
                    self.text = text
                } else if let blocks = try? container.decode([Block].self) {
                    self.text = blocks.compactMap(\.text).joined()
                } else {
                    throw DecodingError.typeMismatch(
                        String.self, .init(codingPath: decoder.codingPath, debugDescription: "content must be a string or text blocks")
                    )
                }
            }

            struct Block: Decodable { var text: String? }
        }

        var prompt: String?
        var messages: [Message]?
        var sessionID: String?
        var agent: String?

        enum CodingKeys: String, CodingKey {
            case prompt, messages, agent
            case sessionID = "session_id"
        }
    }

    struct Reply: Encodable {
        var response: String
        var sessionId: String
    }

    func add(to router: Router<Context>) {
        router.post("/invocations") { request, context in
            let body = try await JSONBody.decode(Body.self, from: request, limit: maxBodyBytes)
            var chatRequest = try Self.chatRequest(from: body, headers: request.headers)
            chatRequest.subject = context.subject
            let reply = try await runner.start(chatRequest)
            let sessionHeaders: HTTPFields = [Self.sessionHeader: reply.sessionID.rawValue]
            if request.headers[.accept]?.contains("text/event-stream") == true {
                var response = ReplyStreamResponse.live(reply, after: 0, runner: runner, format: AgentCoreSSEFormat())
                response.headers.append(contentsOf: sessionHeaders)
                return response
            }
            let collected = try await CollectedReply.collect(reply, runner: runner)
            return try JSONResponse.make(Reply(response: collected.text, sessionId: reply.sessionID.rawValue), headers: sessionHeaders)
        }
    }

    static func chatRequest(from body: Body, headers: HTTPFields) throws -> ChatRequest {
        var sessionID: SessionID?
        if let header = headers[sessionHeader] {
            guard header.utf8.count >= 33 else {
                throw KaiwaError(.invalidSessionID, "The AgentCore session id header must be 33 to 256 characters.")
            }
            sessionID = try SessionID(validating: header, maxLength: SessionID.maxStoredLength)
        } else if let fromBody = body.sessionID {
            sessionID = try SessionID(validating: fromBody)
        }

        if let prompt = body.prompt {
            return ChatRequest(message: prompt, sessionID: sessionID, agent: body.agent)
        }
        guard let messages = body.messages, let last = messages.last else {
            throw KaiwaError.badRequest("Send `prompt`, or `messages` ending with the user's new message.")
        }
        guard last.role == "user" else {
            throw KaiwaError.badRequest("The last of `messages` must be the user's new message (role \"user\").")
        }
        let prior = try messages.dropLast().enumerated().map { index, message in
            guard let role = Role(rawValue: message.role) else {
                throw KaiwaError.badRequest("`messages[\(index)].role` must be \"user\" or \"assistant\".")
            }
            return ChatMessage(role: role, content: [.text(message.content.text)])
        }
        return ChatRequest(message: last.content.text, sessionID: sessionID, agent: body.agent, priorMessages: prior)
    }
}
