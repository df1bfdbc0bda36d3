import Hummingbird
import KaiwaAgent

/// `GET /api/agents`: the agent profiles with their suggested prompts, for the UI's picker.
struct AgentRoutes<Context: RequestContext> {
    let agents: AgentCatalog
    let defaultModel: String

    struct Agent: Encodable {
        var name: String
        var displayName: String
        var suggestedPrompts: [String]
        var tools: [String]
        var model: String
        var isDefault: Bool
    }

    struct AgentList: Encodable {
        var agents: [Agent]
        var defaultAgent: String
    }

    func add(to router: Router<Context>) {
        router.get("/api/agents") { _, _ in
            try JSONResponse.make(
                AgentList(
                    agents: agents.profiles.map {
                        Agent(
                            name: $0.name, displayName: $0.displayName, suggestedPrompts: $0.suggestedPrompts, tools: $0.tools,
                            model: $0.model ?? defaultModel, isDefault: $0.name == agents.defaultName
                        )
                    },
                    defaultAgent: agents.defaultName
                )
            )
        }
    }
}
