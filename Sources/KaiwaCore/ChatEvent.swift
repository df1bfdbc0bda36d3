/// What a reply is made of, as every transport sends it. The model's stream, enriched by the
/// agent, becomes a sequence of these; `/chat` collects them, SSE and WebSocket frame them.
public enum ChatEvent: Sendable, Hashable {
    /// The conversation this reply belongs to (always first).
    case session(id: String)
    /// A piece of the reply's text.
    case delta(text: String)
    /// The model asked for a tool.
    case toolCall(id: String, name: String, input: JSONValue)
    /// A tool finished; `summary` is short text for people, not the whole output.
    case toolResult(id: String, ok: Bool, summary: String)
    /// Tokens the model read and wrote for this reply.
    case usage(TokenUsage)
    /// The reply is complete (or was stopped) and stored as `messageID`; `model` (a catalogue
    /// name) wrote it; `costUSD` is what it cost when the model's prices are known.
    case done(messageID: String, response: String, stopped: Bool, model: String? = nil, costUSD: Double? = nil)
    /// The reply failed; `code` is a `KaiwaError.Code` raw value, or `reply_interrupted` when a
    /// resumed reply stopped without its last event because the server writing it went away.
    case error(code: String, message: String)

    /// The event's name: the SSE `event:` field and the WebSocket `type` field.
    public var type: String {
        switch self {
        case .session: "session"
        case .delta: "delta"
        case .toolCall: "tool_call"
        case .toolResult: "tool_result"
        case .usage: "usage"
        case .done: "done"
        case .error: "error"
        }
    }

    /// Whether this event ends its reply.
    public var isTerminal: Bool {
        switch self {
        case .done, .error: true
        default: false
        }
    }
}

/// An event with its position in its reply (1, 2, 3, …), used as the SSE `id:` so that a
/// client can resume after the last event it saw.
public struct SequencedChatEvent: Sendable, Hashable, Codable {
    public var sequence: Int
    public var event: ChatEvent

    public init(sequence: Int, event: ChatEvent) {
        self.sequence = sequence
        self.event = event
    }

    private enum CodingKeys: String, CodingKey {
        case type, seq, sessionID = "session_id", text, id, name, input, ok, summary
        case inputTokens = "input_tokens", outputTokens = "output_tokens"
        case messageID = "message_id", response, stopped, model, costUSD = "cost_usd", error, message
    }

    /// `{"type": …, "seq": …, …fields of the event}`: the JSON every transport sends.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(event.type, forKey: .type)
        try container.encode(sequence, forKey: .seq)
        switch event {
        case .session(let id):
            try container.encode(id, forKey: .sessionID)
        case .delta(let text):
            try container.encode(text, forKey: .text)
        case .toolCall(let id, let name, let input):
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(input, forKey: .input)
        case .toolResult(let id, let ok, let summary):
            try container.encode(id, forKey: .id)
            try container.encode(ok, forKey: .ok)
            try container.encode(summary, forKey: .summary)
        case .usage(let usage):
            try container.encode(usage.inputTokens, forKey: .inputTokens)
            try container.encode(usage.outputTokens, forKey: .outputTokens)
        case .done(let messageID, let response, let stopped, let model, let costUSD):
            try container.encode(messageID, forKey: .messageID)
            try container.encode(response, forKey: .response)
            try container.encode(stopped, forKey: .stopped)
            try container.encodeIfPresent(model, forKey: .model)
            try container.encodeIfPresent(costUSD, forKey: .costUSD)
        case .error(let code, let message):
            try container.encode(code, forKey: .error)
            try container.encode(message, forKey: .message)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sequence = try container.decode(Int.self, forKey: .seq)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "session":
            event = .session(id: try container.decode(String.self, forKey: .sessionID))
        case "delta":
            event = .delta(text: try container.decode(String.self, forKey: .text))
        case "tool_call":
            event = .toolCall(
                id: try container.decode(String.self, forKey: .id),
                name: try container.decode(String.self, forKey: .name),
                input: try container.decode(JSONValue.self, forKey: .input)
            )
        case "tool_result":
            event = .toolResult(
                id: try container.decode(String.self, forKey: .id),
                ok: try container.decode(Bool.self, forKey: .ok),
                summary: try container.decode(String.self, forKey: .summary)
            )
        case "usage":
            event = .usage(
                TokenUsage(
                    inputTokens: try container.decode(Int.self, forKey: .inputTokens),
                    outputTokens: try container.decode(Int.self, forKey: .outputTokens)
                )
            )
        case "done":
            event = .done(
                messageID: try container.decode(String.self, forKey: .messageID),
                response: try container.decode(String.self, forKey: .response),
                stopped: try container.decode(Bool.self, forKey: .stopped),
                model: try container.decodeIfPresent(String.self, forKey: .model),
                costUSD: try container.decodeIfPresent(Double.self, forKey: .costUSD)
            )
        case "error":
            event = .error(
                code: try container.decode(String.self, forKey: .error),
                message: try container.decode(String.self, forKey: .message)
            )
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown event type \(type)")
        }
    }
}
