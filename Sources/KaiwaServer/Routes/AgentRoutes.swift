import Hummingbird
import KaiwaAgent

/// `GET /api/agents`: the agent profiles with their suggested prompts and the models each
/// may use, for the UI's pickers.
struct AgentRoutes<Context: RequestContext> {
    let agents: AgentCatalog
    let models: ModelCatalog

    struct Agent: Encodable {
        var name: String
        var displayName: String
        var suggestedPrompts: [String]
        var tools: [String]
        /// The model the agent answers with unless another is picked.
        var model: String
        /// The models that may be picked for this agent.
        var models: [String]
        var isDefault: Bool
    }

    struct Model: Encodable {
        var name: String
        var provider: String
        var contextWindow: Int?
    }

    struct AgentList: Encodable {
        var agents: [Agent]
        var defaultAgent: String
        var models: [Model]
    }

    func add(to router: Router<Context>) {
        let list = AgentList(
            agents: agents.profiles.map {
                Agent(
                    name: $0.name, displayName: $0.displayName, suggestedPrompts: $0.suggestedPrompts, tools: $0.tools,
                    model: models.defaultModel(for: $0).name, models: models.allowedNames(for: $0), isDefault: $0.name == agents.defaultName
                )
            },
            defaultAgent: agents.defaultName,
            models: models.models.map { Model(name: $0.name, provider: $0.providerKind, contextWindow: $0.contextWindow) }
        )
        router.get("/api/agents") { _, _ in try JSONResponse.make(list) }
    }
}
