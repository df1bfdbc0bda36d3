/// Who wrote a message.
public enum Role: String, Sendable, Codable, Hashable, CaseIterable {
    case user
    case assistant
}

/// One piece of a message. Plain chat only uses `text`; the agent loop stores the tool calls
/// a model makes and the results it gets back as blocks of the same message history.
public enum ContentBlock: Sendable, Hashable, Codable {
    case text(String)
    /// The model asks for a tool to run. `id` pairs it with its result.
    case toolUse(id: String, name: String, input: JSONValue)
    /// What a tool returned (or why it failed), for the model to read.
    case toolResult(toolUseID: String, isError: Bool, content: String)
    /// A file the user attached: an image or a document, its bytes kept apart in the store.
    case attachment(Attachment)

    private enum CodingKeys: String, CodingKey {
        case type, text, id, name, input
        case toolUseID = "tool_use_id"
        case isError = "is_error"
        case content
        case attachment
    }

    private enum Kind: String, Codable {
        case text
        case toolUse = "tool_use"
        case toolResult = "tool_result"
        case attachment
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Kind.self, forKey: .type) {
        case .text:
            self = .text(try container.decode(String.self, forKey: .text))
        case .toolUse:
            self = .toolUse(
                id: try container.decode(String.self, forKey: .id),
                name: try container.decode(String.self, forKey: .name),
                input: try container.decode(JSONValue.self, forKey: .input)
            )
        case .toolResult:
            self = .toolResult(
                toolUseID: try container.decode(String.self, forKey: .toolUseID),
                isError: try container.decode(Bool.self, forKey: .isError),
                content: try container.decode(String.self, forKey: .content)
            )
        case .attachment:
            self = .attachment(try container.decode(Attachment.self, forKey: .attachment))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text(let text):
            try container.encode(Kind.text, forKey: .type)
            try container.encode(text, forKey: .text)
        case .toolUse(let id, let name, let input):
            try container.encode(Kind.toolUse, forKey: .type)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(input, forKey: .input)
        case .toolResult(let toolUseID, let isError, let content):
            try container.encode(Kind.toolResult, forKey: .type)
            try container.encode(toolUseID, forKey: .toolUseID)
            try container.encode(isError, forKey: .isError)
            try container.encode(content, forKey: .content)
        case .attachment(let attachment):
            try container.encode(Kind.attachment, forKey: .type)
            try container.encode(attachment, forKey: .attachment)
        }
    }
}

extension Array where Element == ContentBlock {
    /// The text of all text blocks, joined: what a person reads of a message.
    public var plainText: String {
        if count == 1, case .text(let text) = first { return text }
        return compactMap { block in
            if case .text(let text) = block { return text }
            return nil
        }.joined()
    }

    /// The files attached among these blocks.
    public var attachments: [Attachment] {
        compactMap { if case .attachment(let attachment) = $0 { attachment } else { nil } }
    }

    /// Whether these are the results of tool calls (a user message the agent wrote, not a person).
    public var isToolResults: Bool {
        !isEmpty && allSatisfy { if case .toolResult = $0 { true } else { false } }
    }
}

/// A message as a model sees it.
public struct ChatMessage: Sendable, Hashable {
    public var role: Role
    public var content: [ContentBlock]

    public init(role: Role, content: [ContentBlock]) {
        self.role = role
        self.content = content
    }

    public static func user(_ text: String) -> ChatMessage { .init(role: .user, content: [.text(text)]) }

    /// Whether the message holds a tool call or a tool's result.
    public var hasToolBlocks: Bool {
        content.contains {
            switch $0 {
            case .toolUse, .toolResult: true
            case .text, .attachment: false
            }
        }
    }
    public static func assistant(_ text: String) -> ChatMessage { .init(role: .assistant, content: [.text(text)]) }
}
