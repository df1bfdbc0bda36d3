/// Who the user talks to: a system prompt, and the prompts a new conversation suggests.
public struct AgentProfile: Sendable, Hashable {
    /// The id clients send as `agent`, e.g. `assistant`.
    public var name: String
    /// The name shown to people.
    public var displayName: String
    public var systemPrompt: String
    public var suggestedPrompts: [String]

    public init(name: String, displayName: String, systemPrompt: String, suggestedPrompts: [String] = []) {
        self.name = name
        self.displayName = displayName
        self.systemPrompt = systemPrompt
        self.suggestedPrompts = suggestedPrompts
    }

    /// Plain chat, no tools.
    public static let assistant = AgentProfile(
        name: "assistant",
        displayName: "Assistant",
        systemPrompt: "You are Kaiwa, a helpful assistant. Answer in the language the user writes in.",
        suggestedPrompts: ["こんにちは", "今日の天気は？"]
    )
}

/// The agent profiles a server offers, and which one a conversation gets when it names none.
public struct AgentCatalog: Sendable {
    public let profiles: [AgentProfile]
    public let defaultName: String

    public init(profiles: [AgentProfile], defaultName: String) {
        precondition(profiles.contains { $0.name == defaultName }, "the default agent must be one of the profiles")
        self.profiles = profiles
        self.defaultName = defaultName
    }

    public static let standard = AgentCatalog(profiles: [.assistant], defaultName: AgentProfile.assistant.name)

    public func profile(named name: String) -> AgentProfile? {
        profiles.first { $0.name == name }
    }
}
