import Foundation
import KaiwaCore

/// A conversation's metadata.
public struct SessionRecord: Sendable, Hashable {
    public var id: SessionID
    /// The agent profile the conversation talks to.
    public var agent: String
    /// A short title for conversation lists (the start of the first message).
    public var title: String
    /// Who owns the conversation once authentication exists; `nil` for anonymous use.
    public var owner: String?
    public var createdAt: Date
    /// When the last message was stored: idle expiry and retention count from here.
    public var updatedAt: Date

    public init(id: SessionID, agent: String, title: String, owner: String? = nil, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.agent = agent
        self.title = title
        self.owner = owner
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Whether a stored message is whole.
public enum MessageStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Written in full.
    case complete
    /// Stopped before the end (by the user, a shutdown or a disconnect); the text is what was written.
    case partial
    /// The model or agent failed; the text is whatever arrived before the failure.
    case error
}

/// A message to be stored; the store gives it its position.
public struct NewMessage: Sendable, Hashable {
    /// Made up front so that events can name the message before it is stored.
    public var id: String
    public var role: Role
    public var content: [ContentBlock]
    public var model: String?
    public var status: MessageStatus
    public var usage: TokenUsage?
    /// What the reply cost in US dollars, when its model's prices are known.
    public var costUSD: Double?
    public var createdAt: Date

    public init(
        role: Role,
        content: [ContentBlock],
        model: String? = nil,
        status: MessageStatus = .complete,
        usage: TokenUsage? = nil,
        costUSD: Double? = nil,
        createdAt: Date,
        id: String = UUIDString.random()
    ) {
        self.id = id
        self.role = role
        self.content = content
        self.model = model
        self.status = status
        self.usage = usage
        self.costUSD = costUSD
        self.createdAt = createdAt
    }
}

/// A stored message.
public struct MessageRecord: Sendable, Hashable {
    public var id: String
    public var sessionID: SessionID
    /// Position in the conversation: 1, 2, 3, … with no gaps at the time of writing.
    public var sequence: Int
    public var role: Role
    public var content: [ContentBlock]
    /// The model that wrote an assistant message.
    public var model: String?
    public var status: MessageStatus
    public var usage: TokenUsage?
    /// What the reply cost in US dollars, when its model's prices were known.
    public var costUSD: Double?
    public var createdAt: Date

    public init(
        id: String, sessionID: SessionID, sequence: Int, role: Role, content: [ContentBlock],
        model: String?, status: MessageStatus, usage: TokenUsage?, costUSD: Double? = nil, createdAt: Date
    ) {
        self.costUSD = costUSD
        self.id = id
        self.sessionID = sessionID
        self.sequence = sequence
        self.role = role
        self.content = content
        self.model = model
        self.status = status
        self.usage = usage
        self.createdAt = createdAt
    }

    public var chatMessage: ChatMessage { ChatMessage(role: role, content: content) }
}

/// Where a page of the session list ends: the next page starts after this session.
public struct SessionCursor: Sendable, Hashable {
    public var updatedAt: Date
    public var id: SessionID

    public init(updatedAt: Date, id: SessionID) {
        self.updatedAt = updatedAt
        self.id = id
    }

    public init(after session: SessionRecord) {
        self.init(updatedAt: session.updatedAt, id: session.id)
    }
}

/// How much a retention sweep removed.
public struct SweepResult: Sendable, Hashable {
    public var sessions: Int
    public var messages: Int

    public init(sessions: Int, messages: Int) {
        self.sessions = sessions
        self.messages = messages
    }
}
