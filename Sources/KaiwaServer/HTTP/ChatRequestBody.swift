import KaiwaAgent
import KaiwaCore

/// A new chat message as `/chat`, `/chat/stream` and the WebSocket `sendMessage` action
/// send it: `{"message": "…", "session_id"?: "…", "agent"?: "…", "model"?: "…"}`.
struct ChatRequestBody: Decodable {
    var message: String
    var sessionID: String?
    var agent: String?
    var model: String?
    /// Ids of uploaded files (`POST /api/attachments`) to send with the message.
    var attachments: [String]?

    enum CodingKeys: String, CodingKey {
        case message
        case sessionID = "session_id"
        case agent
        case model
        case attachments
    }

    /// The request for the chat service from `subject`, with the session id validated.
    func chatRequest(from subject: Subject) throws -> ChatRequest {
        var request = ChatRequest(message: message, sessionID: try sessionID.map { try SessionID(validating: $0) }, agent: agent, model: model, subject: subject)
        request.attachments = attachments ?? []
        return request
    }
}
