/// Tokens a model read (`inputTokens`) and wrote (`outputTokens`) for one reply.
public struct TokenUsage: Sendable, Hashable, Codable {
    public var inputTokens: Int
    public var outputTokens: Int

    public init(inputTokens: Int, outputTokens: Int) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }
}

/// Why a model stopped writing.
public enum StopReason: String, Sendable, Hashable, Codable {
    case endTurn = "end_turn"
    case toolUse = "tool_use"
    case maxTokens = "max_tokens"
    case stopSequence = "stop_sequence"
}

/// Everything a model needs for one call.
public struct ModelRequest: Sendable, Hashable {
    /// Instructions that frame the conversation (the agent's system prompt).
    public var system: String?
    /// The part of the history the model sees, oldest first; the last one is the new turn.
    public var messages: [ChatMessage]
    public var maxTokens: Int?
    public var temperature: Double?
    public var stopSequences: [String]

    public init(
        system: String? = nil,
        messages: [ChatMessage],
        maxTokens: Int? = nil,
        temperature: Double? = nil,
        stopSequences: [String] = []
    ) {
        self.system = system
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.stopSequences = stopSequences
    }
}

/// What every model provider's stream is normalized to.
public enum ModelStreamEvent: Sendable, Hashable {
    case textDelta(String)
    case usage(TokenUsage)
    case stop(StopReason)
}

/// A model that streams a reply. Implementations: the offline `rules` model, and later
/// OpenAI-compatible servers and Bedrock.
///
/// The stream must end (or throw) promptly when the consuming task is cancelled: that is how
/// a stop request or a departed client ends the model call behind a reply.
public protocol ModelProvider: Sendable {
    /// The id reported by `/health` and stored with each reply, for example `rules`.
    var modelID: String { get }

    func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelStreamEvent, any Error>
}
