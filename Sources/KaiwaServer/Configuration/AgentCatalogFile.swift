import Foundation
import KaiwaAgent
import KaiwaCore
import Logging

/// Agent profiles from a JSON file:
/// `{"default": "assistant", "agents": [{"name", "display_name", "system_prompt", "model"?, "models"?, "tools"?, "suggested_prompts"?}]}`.
enum AgentCatalogFile {
    struct File: Decodable {
        struct Agent: Decodable {
            var name: String
            var display_name: String?
            var system_prompt: String
            var model: String?
            var models: [String]?
            var tools: [String]?
            var suggested_prompts: [String]?
        }
        var `default`: String?
        var agents: [Agent]
    }

    /// `mcpServers` are the configured MCP servers: a tool named `<server>_…` is accepted even
    /// when its server is down (the agent simply lacks it until the server is back).
    /// `catalogModels` are the model catalogue's names; without a catalogue file (`nil`), an
    /// agent's model is written the short way (`openai:llama3.2`) and joins the catalogue.
    static func load(
        path: String, knownTools: Set<String>, mcpServers: [String] = [], catalogModels: Set<String>? = nil, logger: Logger? = nil
    ) throws -> AgentCatalog {
        func problem(_ text: String) -> ConfigurationError {
            ConfigurationError(key: "agents.path", problem: "names \(path), which cannot be used: \(text)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw problem("it cannot be read") }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw problem("it is not a valid agents file (\(error))")
        }
        guard !file.agents.isEmpty else { throw problem("it lists no agents") }
        var seen = Set<String>()
        let profiles = try file.agents.map { agent -> AgentProfile in
            guard (try? SessionID(validating: agent.name, maxLength: 64)) != nil else { throw problem("agent name \"\(agent.name)\" must be letters, digits, - or _") }
            guard seen.insert(agent.name).inserted else { throw problem("agent \(agent.name) appears twice") }
            for model in (agent.model.map { [$0] } ?? []) + (agent.models ?? []) {
                if let catalogModels, !catalogModels.contains(model) {
                    throw problem("agent \(agent.name) names model \"\(model)\", which is not in the model catalogue (\(catalogModels.sorted().joined(separator: ", ")))")
                }
                if catalogModels == nil, ModelChoice(parsing: model) == nil {
                    throw problem("agent \(agent.name) has model \"\(model)\"; \(ModelChoice.spelling)")
                }
            }
            if agent.models?.isEmpty == true { throw problem("agent \(agent.name) lists no models; leave \"models\" out to allow every model") }
            for tool in agent.tools ?? [] where !knownTools.contains(tool) {
                if mcpServers.contains(where: { tool.hasPrefix($0 + "_") }) {
                    logger?.warning("Agent tool is not available now", metadata: ["agent": "\(agent.name)", "tool": "\(tool)"])
                    continue
                }
                throw problem("agent \(agent.name) uses tool \"\(tool)\", which this server does not have (known: \(knownTools.sorted().joined(separator: ", ")))")
            }
            return AgentProfile(
                name: agent.name, displayName: agent.display_name ?? agent.name, systemPrompt: agent.system_prompt,
                suggestedPrompts: agent.suggested_prompts ?? [], model: agent.model, models: agent.models,
                tools: agent.tools ?? []
            )
        }
        let defaultName = file.default ?? profiles[0].name
        guard seen.contains(defaultName) else { throw problem("the default agent \(defaultName) is not listed") }
        return AgentCatalog(profiles: profiles, defaultName: defaultName)
    }
}

