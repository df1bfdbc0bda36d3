import Foundation
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

/// A tool the model may call: its name, what it does, and its input as a JSON schema.
public struct ToolSpec: Sendable, Hashable {
    public var name: String
    public var description: String
    /// A JSON schema object (`{"type": "object", "properties": …, "required": …}`).
    public var inputSchema: JSONValue

    public init(name: String, description: String, inputSchema: JSONValue) {
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
    }
}

/// Which tools the model may, or must, call.
public enum ToolChoice: Sendable, Hashable {
    /// The model decides (the default).
    case auto
    /// The model must not call a tool.
    case none
    /// The model must call some tool.
    case required
    /// The model must call this tool.
    case tool(String)
}

/// Everything a model needs for one call.
public struct ModelRequest: Sendable, Hashable {
    /// Instructions that frame the conversation (the agent's system prompt).
    public var system: String?
    /// The part of the history the model sees, oldest first; the last one is the new turn.
    public var messages: [ChatMessage]
    /// Tools the model may ask for.
    public var tools: [ToolSpec]
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var stopSequences: [String]
    public var toolChoice: ToolChoice
    /// Whether the caller shows the answer as it arrives. When `false` (a client that waits
    /// for the whole answer), a provider may ask its upstream for it in one piece: fewer
    /// bytes and parses. The events are the same either way.
    public var prefersStreaming = true
    /// The bytes of the files attached to `messages`, by attachment id.
    public var attachmentData: [String: Data] = [:]

    public init(
        system: String? = nil,
        messages: [ChatMessage],
        tools: [ToolSpec] = [],
        maxTokens: Int? = nil,
        temperature: Double? = nil,
        topP: Double? = nil,
        stopSequences: [String] = [],
        toolChoice: ToolChoice = .auto
    ) {
        self.system = system
        self.messages = messages
        self.tools = tools
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.stopSequences = stopSequences
        self.toolChoice = toolChoice
    }
}

/// What every model provider's stream is normalized to.
public enum ModelStreamEvent: Sendable, Hashable {
    case textDelta(String)
    /// The model starts a tool call; its input follows as JSON fragments.
    case toolUseStart(id: String, name: String)
    /// A fragment of the tool call's input JSON; fragments are concatenated in order.
    case toolUseInputDelta(id: String, fragment: String)
    /// The tool call's input is complete.
    case toolUseEnd(id: String)
    case usage(TokenUsage)
    case stop(StopReason)
    /// The catalogue model answering from here on: sent first by a model with fallbacks, so
    /// that a reply records a fallback's name when the first model failed.
    case answeredBy(String)
}

/// How a model call failed, in the few cases that matter to a client.
public struct ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// Too many requests; worth retrying later.
        case throttled
        /// The model did not answer (or stopped answering) in time.
        case timeout
        /// The conversation does not fit the model's context window.
        case contextTooLong
        /// The credentials or key were refused.
        case authentication
        /// The provider refused the request as malformed.
        case badRequest
        /// The provider failed or could not be reached, or its answer was unreadable.
        case unavailable
    }

    public var kind: Kind
    /// What happened, for the log. Never contains a secret; never shown to clients as is.
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "model \(kind.rawValue): \(detail)" }

    /// Whether trying again may succeed.
    public var isRetryable: Bool { kind == .throttled || kind == .unavailable }

    /// What the client is told.
    public var clientError: KaiwaError {
        switch kind {
        case .throttled: KaiwaError(.serviceUnavailable, "The model is busy right now. Please try again in a moment.")
        case .timeout: KaiwaError(.modelTimeout, "The model took too long to answer. Please try again.")
        case .contextTooLong: KaiwaError.badRequest("This conversation is too long for the model. Start a new conversation.")
        case .authentication, .badRequest, .unavailable:
            KaiwaError(.serviceUnavailable, "The model is not available right now. Please try again in a moment.")
        }
    }
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
