import Foundation
import KaiwaAgent
import KaiwaCore
import KaiwaModels
import KaiwaStore
import Logging
import Testing

@testable import KaiwaServer

/// The model catalogue: its file, fallbacks, the model each reply names, and its cost.
struct ModelCatalogTests {
    static func parse(_ json: String) throws -> (models: [ModelSpec], defaultName: String) {
        try ModelCatalogFile.parse(Data(json.utf8), path: "models.json")
    }

    @Test func catalogueFileNamesModelsWithProvidersPricesAndFallbacks() throws {
        let (models, defaultName) = try Self.parse(
            """
            {"default": "fast", "models": [
              {"name": "fast", "provider": "openai", "model": "llama3.2", "base_url": "http://127.0.0.1:11434/v1",
               "api_key_env": "OLLAMA_KEY", "context_window": 128000,
               "price": {"input_per_million": 0.15, "output_per_million": 0.6}, "fallbacks": ["nova", "bot"]},
              {"name": "nova", "provider": "bedrock", "region": "eu-west-1"},
              {"name": "bot", "provider": "rules"}
            ]}
            """
        )
        #expect(defaultName == "fast")
        #expect(models.map(\.name) == ["fast", "nova", "bot"])
        #expect(models[0].provider == .openAI(model: "llama3.2", baseURL: "http://127.0.0.1:11434/v1", apiKeyVariable: "OLLAMA_KEY"))
        #expect(models[0].price == ModelPrice(inputPerMillion: 0.15, outputPerMillion: 0.6))
        #expect(models[0].contextWindow == 128000)
        #expect(models[0].fallbacks == ["nova", "bot"])
        #expect(models[1].provider == .bedrock(model: BedrockProvider.defaultModelID, region: "eu-west-1"))
    }

    @Test(arguments: [
        (#"{"models": []}"#, "lists no models"),
        (#"{"models": [{"name": "a", "provider": "llama"}]}"#, "use rules, openai or bedrock"),
        (#"{"models": [{"name": "a", "provider": "openai"}]}"#, "needs \"model\""),
        (#"{"models": [{"name": "a", "provider": "rules"}, {"name": "a", "provider": "rules"}]}"#, "appears twice"),
        (#"{"models": [{"name": "a", "provider": "rules", "fallbacks": ["b"]}]}"#, "falls back to b, which is not in the catalogue"),
        (#"{"models": [{"name": "a", "provider": "rules", "fallbacks": ["a"]}]}"#, "falls back to itself"),
        (#"{"models": [{"name": "agent:x", "provider": "rules"}]}"#, "not start with agent:"),
        (#"{"models": [{"name": "a b", "provider": "rules"}]}"#, "must be 1 to 128"),
        (#"{"models": [{"name": "a", "provider": "rules", "price": {"input_per_million": -1, "output_per_million": 1}}]}"#, "a price of -1"),
        (#"{"models": [{"name": "a", "provider": "rules", "context_window": 0}]}"#, "positive number of tokens"),
        (#"{"models": [{"name": "a", "provider": "openai", "model": "m", "base_url": "ftp://x"}]}"#, "not an http(s) URL"),
        (#"{"models": [{"name": "a", "provider": "rules", "fallback": ["b"]}]}"#, "unknown field \"fallback\""),
        (#"{"default": "b", "models": [{"name": "a", "provider": "rules"}]}"#, "default model b is not in the catalogue"),
        (#"{"models": {"name": "a"}}"#, "not a valid model catalogue"),
    ])
    func aCatalogueFileThatCannotBeUsedStopsStartUpNamingTheProblem(json: String, problem: String) {
        #expect {
            try Self.parse(json)
        } throws: { error in
            let message = "\(error)"
            return message.contains("KAIWA_MODELS_PATH") && message.contains(problem)
        }
    }

    @Test func anAgentNamingAModelOutsideTheCatalogueStopsStartUp() throws {
        let path = try makeTemporaryDirectory().appendingPathComponent("agents.json").path
        try #"{"agents": [{"name": "a", "system_prompt": "x", "models": ["fast", "slow"]}]}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try AgentCatalogFile.load(path: path, knownTools: [], catalogModels: ["fast"])
        } throws: { error in
            "\(error)".contains("names model \"slow\", which is not in the model catalogue")
        }
        let agents = try AgentCatalogFile.load(path: path, knownTools: [], catalogModels: ["fast", "slow"])
        #expect(agents.profiles[0].models == ["fast", "slow"])
    }

    static func catalogue(_ models: [CatalogModel], defaultName: String? = nil) -> ModelCatalog {
        ModelCatalog(models: models, defaultName: defaultName ?? models[0].name)
    }

    @Test func aModelThatFailsBeforeAnsweringFallsBackAndTheReplyNamesAndPricesTheFallback() async throws {
        let store = InMemoryChatStore()
        let throttled = ScriptedModel([.fail(ModelError(.throttled, "HTTP 429"))])
        let backup = ScriptedModel.replying("from ", "backup")
        let primary = FallbackModel([.init(name: "primary", provider: throttled), .init(name: "backup", provider: backup)], logger: Logger(label: "test"))
        let models = Self.catalogue([
            CatalogModel(name: "primary", provider: primary, providerKind: "openai", price: ModelPrice(inputPerMillion: 100, outputPerMillion: 100), fallbacks: ["backup"]),
            CatalogModel(name: "backup", provider: backup, providerKind: "openai", price: ModelPrice(inputPerMillion: 1_000_000, outputPerMillion: 2_000_000)),
        ])
        let chat = ChatService(store: store, models: models)
        let turn = try await chat.begin(ChatRequest(message: "hi"))
        let events = EventLog()
        await chat.run(turn) { await events.append($0.event) }
        guard case .done(_, let response, _, let model, let cost)? = await events.all.last else {
            Issue.record("no done event")
            return
        }
        #expect(response == "from backup")
        #expect(model == "backup")
        // 12 tokens read at $1 each and 7 written at $2 each (the backup's prices, not the primary's).
        #expect(cost == 26)
        let stored = try await store.messages(in: turn.session.id).last
        #expect(stored?.model == "backup")
        #expect(stored?.costUSD == 26)
    }

    @Test func aModelThatFailsAfterItBeganAnsweringIsNotSwitched() async throws {
        let breaking = ScriptedModel([.event(.textDelta("half")), .fail(ModelError(.unavailable, "reset"))])
        let backup = ScriptedModel.replying("whole")
        let model = FallbackModel([.init(name: "a", provider: breaking), .init(name: "b", provider: backup)], logger: Logger(label: "test"))
        await #expect(throws: ModelError.self) { try await collectEvents(model.stream(ModelRequest(messages: [.user("hi")]))) }
        #expect(backup.requests.recorded.isEmpty)
    }

    @Test func aRequestTheModelRefusedIsNotSentToTheFallback() async throws {
        let refusing = ScriptedModel([.fail(ModelError(.badRequest, "HTTP 400"))])
        let backup = ScriptedModel.replying("whole")
        let model = FallbackModel([.init(name: "a", provider: refusing), .init(name: "b", provider: backup)], logger: Logger(label: "test"))
        await #expect(throws: ModelError.self) { try await collectEvents(model.stream(ModelRequest(messages: [.user("hi")]))) }
        #expect(backup.requests.recorded.isEmpty)
    }

    @Test func aChatMessageMayPickAnyModelItsAgentAllows() async throws {
        let fast = ScriptedModel.replying("fast answer")
        let large = ScriptedModel.replying("large answer")
        let models = Self.catalogue([
            CatalogModel(name: "fast", provider: fast, providerKind: "openai"),
            // A dollar per input token and two per output token: 12 in + 7 out cost 26.
            CatalogModel(name: "large", provider: large, providerKind: "openai", price: ModelPrice(inputPerMillion: 1_000_000, outputPerMillion: 2_000_000)),
            CatalogModel(name: "secret", provider: large, providerKind: "openai"),
        ])
        let agents = AgentCatalog(
            profiles: [AgentProfile(name: "helper", displayName: "Helper", systemPrompt: "x", models: ["fast", "large"])], defaultName: "helper"
        )
        try await AppHarness(models: models, agents: agents).run { client in
            let picked = try await client.post("/chat", json: #"{"message": "hi", "model": "large"}"#)
            #expect(picked.json["response"] as? String == "large answer")
            #expect(picked.json["model"] as? String == "large")
            #expect(picked.json["cost_usd"] as? Double == 26)
            let defaulted = try await client.post("/chat", json: #"{"message": "hi"}"#)
            #expect(defaulted.json["model"] as? String == "fast")
            #expect(defaulted.json["cost_usd"] == nil, "a model without prices has no cost")

            // The history names each reply's model and cost too.
            let session = try #require(picked.json["session_id"] as? String)
            let history = try await client.get("/api/sessions/\(session)")
            let reply = try #require((history.json["messages"] as? [[String: Any]])?.last)
            #expect(reply["model"] as? String == "large")
            #expect(reply["cost_usd"] as? Double == 26)

            let unknown = try await client.post("/chat", json: #"{"message": "hi", "model": "gpt-9"}"#)
            #expect(unknown.status == .notFound)
            #expect(unknown.json["error"] as? String == "model_not_found")
            #expect((unknown.json["message"] as? String)?.contains("Known models: fast, large, secret") == true)
            let refused = try await client.post("/chat", json: #"{"message": "hi", "model": "secret"}"#)
            #expect(refused.status == .badRequest)
            #expect((refused.json["message"] as? String)?.contains("does not use model \"secret\"") == true)

            let agentList = try await client.get("/api/agents")
            let helper = try #require((agentList.json["agents"] as? [[String: Any]])?.first)
            #expect(helper["models"] as? [String] == ["fast", "large"])
            #expect(helper["model"] as? String == "fast")
            let health = try await client.get("/health")
            #expect((health.json["models"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["fast", "large", "secret"])
        }
        #expect(fast.requests.turns.count == 1)
        #expect(large.requests.turns.count == 1)
    }

    @Test func theHistorySentToAModelStaysWithinItsContextWindow() async throws {
        let small = ScriptedModel.replying("ok")
        let store = InMemoryChatStore()
        let chat = ChatService(store: store, models: Self.catalogue([CatalogModel(name: "small", provider: small, providerKind: "openai", contextWindow: 400)]))
        let long = String(repeating: "long message ", count: 40)  // ~130 tokens each
        var session: SessionID?
        for _ in 0..<5 {
            let turn = try await chat.begin(ChatRequest(message: long, sessionID: session))
            session = turn.session.id
            await chat.run(turn) { _ in }
        }
        let sent = try #require(small.requests.recorded.last).messages
        // 300 tokens of history (three quarters of 400) hold two of these messages, not all nine.
        #expect(sent.count < 4)
        #expect(sent.last?.content.plainText == long)
    }
}

/// Collects events from a `@Sendable` callback.
actor EventLog {
    private(set) var all: [ChatEvent] = []
    func append(_ event: ChatEvent) { all.append(event) }
}
