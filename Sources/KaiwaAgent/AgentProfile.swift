/// Who the user talks to: a system prompt, and the prompts a new conversation suggests.
public struct AgentProfile: Sendable, Hashable {
    /// The id clients send as `agent`, e.g. `assistant`.
    public var name: String
    /// The name shown to people.
    public var displayName: String
    /// The system prompt; `{today}` is replaced with today's date in Japan when a reply starts.
    public var systemPrompt: String
    public var suggestedPrompts: [String]
    /// The catalogue model this agent uses unless a request names another; the catalogue's default when `nil`.
    public var model: String?
    /// The catalogue models a request may pick for this agent; every model when `nil`.
    public var models: [String]?
    /// Names of the tools the agent may use.
    public var tools: [String]

    public init(
        name: String, displayName: String, systemPrompt: String, suggestedPrompts: [String] = [], model: String? = nil,
        models: [String]? = nil, tools: [String] = []
    ) {
        self.name = name
        self.displayName = displayName
        self.systemPrompt = systemPrompt
        self.suggestedPrompts = suggestedPrompts
        self.model = model
        self.models = models
        self.tools = tools
    }

    /// Plain chat, no tools.
    public static let assistant = AgentProfile(
        name: "assistant",
        displayName: "Assistant",
        systemPrompt: "You are Kaiwa, a helpful assistant. Answer in the language the user writes in.",
        suggestedPrompts: ["こんにちは", "今日の天気は？"]
    )
}

extension AgentProfile {
    /// Seed 001's Confee: recommends tech conferences and study sessions from connpass.
    public static let confee = AgentProfile(
        name: "confee",
        displayName: "Confee",
        systemPrompt: """
            あなたは「Confee」です。技術カンファレンスや勉強会を探して薦めるアシスタントです。今日は{today}です。
            イベントを探すときは必ず search_connpass ツールを使い、検索結果にあるイベントだけを紹介してください。
            回答は日本語の Markdown で書き、各イベントはタイトルを connpass の URL へのリンクにして、日時・場所・参加状況を添えてください。
            開催日が今日より前のイベントは薦めないでください。ツールがエラーを返したら、その内容をユーザーに伝え、時間をおいて再度試すよう案内してください。
            """,
        suggestedPrompts: ["TypeScriptのカンファレンスある？", "面白そうなイベント教えて", "今月東京で開催されるAIの勉強会は？", "初心者向けのSwiftイベントを探して"],
        tools: ["search_connpass"]
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

    public static let standard = AgentCatalog(profiles: [.assistant, .confee], defaultName: AgentProfile.assistant.name)

    public func profile(named name: String) -> AgentProfile? {
        profiles.first { $0.name == name }
    }

    /// The same profiles with another default; `nil` when no profile has that name.
    public func withDefault(_ name: String) -> AgentCatalog? {
        profile(named: name) == nil ? nil : AgentCatalog(profiles: profiles, defaultName: name)
    }
}
