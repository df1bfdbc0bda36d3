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
    /// The position of the last message of the branch the user is on; `nil` means the
    /// session's last message (a session from before branches, or one with no messages).
    public var currentLeaf: Int?

    public init(
        id: SessionID, agent: String, title: String, owner: String? = nil, createdAt: Date, updatedAt: Date, currentLeaf: Int? = nil
    ) {
        self.currentLeaf = currentLeaf
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

/// Where a new message hangs in its conversation's tree.
public enum MessageParent: Sendable, Hashable {
    /// After the message before it in the same write, or, for a write's first message, after
    /// the session's current leaf: the conversation goes on along the branch the user is on.
    case previous
    /// A first message: a new root (an edit of the conversation's first message).
    case root
    /// After the message at this position (an edited message's parent, a regenerated reply's question).
    case after(Int)
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
    public var parent: MessageParent

    public init(
        role: Role,
        content: [ContentBlock],
        model: String? = nil,
        status: MessageStatus = .complete,
        usage: TokenUsage? = nil,
        costUSD: Double? = nil,
        createdAt: Date,
        id: String = UUIDString.random(),
        parent: MessageParent = .previous
    ) {
        self.parent = parent
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
    /// Position in the conversation: 1, 2, 3, … in the order of writing, with no gaps at the
    /// time of writing, across all branches (a child always comes after its parent).
    public var sequence: Int
    /// The position of the message this one follows; `nil` for a first message.
    public var parentSequence: Int?
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
        model: String?, status: MessageStatus, usage: TokenUsage?, costUSD: Double? = nil, createdAt: Date, parentSequence: Int? = nil
    ) {
        self.parentSequence = parentSequence
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
