import KaiwaCore

/// A user's new message, as every transport hands it to the chat service.
public struct ChatRequest: Sendable, Hashable {
    public var message: String
    /// The conversation to continue; a new one is made when `nil` or unknown.
    public var sessionID: SessionID?
    /// The agent profile to talk to; the session's (or the default) when `nil`.
    public var agent: String?
    /// The catalogue model to answer with; the agent's when `nil`.
    public var model: String?
    /// Who sends the message; a new session belongs to them, and only they may continue one.
    public var subject: Subject
    /// Earlier messages the client already has (AgentCore's `messages` form). They are stored
    /// ahead of `message` only when the session has no history yet.
    public var priorMessages: [ChatMessage]
    /// A new branch of an existing conversation instead of a message at the end of it.
    public var branch: Branch?
    /// Ids of files the sender uploaded (`POST /api/attachments`) to send with the message.
    public var attachments: [String] = []

    /// How a turn branches off: `message` replaces an earlier question of the user's, or a
    /// reply is written again. Both leave what was there as a sibling to switch back to.
    public enum Branch: Sendable, Hashable {
        /// `message` is sent in place of the user message with this id.
        case edit(messageID: String)
        /// The reply with this id (or any message of it) is written again; `message` is unused.
        case regenerate(messageID: String)
    }

    public init(
        message: String, sessionID: SessionID? = nil, agent: String? = nil, model: String? = nil, subject: Subject = .local,
        priorMessages: [ChatMessage] = [], branch: Branch? = nil
    ) {
        self.branch = branch
        self.message = message
        self.sessionID = sessionID
        self.agent = agent
        self.model = model
        self.subject = subject
        self.priorMessages = priorMessages
    }

    /// The owner a new session gets, and an existing one must have.
    public var owner: String? { subject.owner }
}

/// Limits and timings of conversations.
public struct ChatSettings: Sendable, Hashable {
    /// A session idle longer than this takes no more messages (408); `nil` never expires.
    public var idleTimeout: Duration?
    /// The largest message accepted, in UTF-8 bytes.
    public var maxMessageBytes: Int
    /// How many of the most recent messages the model sees.
    public var historyLimit: Int
    /// How many characters of the first message become the session's title.
    public var titleLength: Int
    /// Roughly how many tokens of history the model sees (about four characters a token).
    public var contextBudgetTokens: Int
    /// Most model calls in one reply; a model still asking for tools then is stopped.
    public var maxCycles: Int
    /// Longest a tool may run.
    public var toolTimeout: Duration
    /// Whether a new conversation's model writes its title after the first reply (one short
    /// model call); otherwise the title stays the start of the first message.
    public var modelTitles: Bool = true
    /// The largest attached file, in bytes.
    public var maxAttachmentBytes = 5 * 1024 * 1024
    /// Most files attached to one message.
    public var maxAttachmentsPerMessage = 5

    public init(
        idleTimeout: Duration? = .seconds(30 * 60),
        maxMessageBytes: Int = 32 * 1024,
        historyLimit: Int = 50,
        titleLength: Int = 60,
        contextBudgetTokens: Int = 16_000,
        maxCycles: Int = 8,
        toolTimeout: Duration = .seconds(30)
    ) {
        self.idleTimeout = idleTimeout
        self.maxMessageBytes = maxMessageBytes
        self.historyLimit = historyLimit
        self.titleLength = titleLength
        self.contextBudgetTokens = contextBudgetTokens
        self.maxCycles = max(1, maxCycles)
        self.toolTimeout = toolTimeout
    }
}
