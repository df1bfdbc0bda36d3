import Foundation
import Hummingbird
import HummingbirdTesting
import KaiwaAWS
import KaiwaAgent
import KaiwaCore
import KaiwaModels
import KaiwaServer
import KaiwaStore

/// Builds the real application around test dependencies and runs requests against it.
struct AppHarness {
    var configuration = KaiwaConfiguration()
    var store: any ChatStore = InMemoryChatStore()
    var model: any ModelProvider = RulesModel()
    var clock = TestClock()
    var tools: [String: any Tool] = [:]
    /// The model catalogue; `model` alone when `nil`.
    var models: ModelCatalog?
    var agents: AgentCatalog = .standard
    var webSocketManagement: (@Sendable (String) -> APIGatewayManagementClient)?

    func run(mode: TestingSetup = .router, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var configuration = self.configuration
        configuration.port = 0
        var dependencies = AppDependencies(store: store, models: models ?? .single(model), tools: tools, agents: agents, clock: clock)
        dependencies.webSocketManagement = webSocketManagement
        let app = try await buildApplication(configuration, dependencies: dependencies)
        try await app.test(mode, body)
    }
}

extension TestClientProtocol {
    /// Sends `json` (already encoded) with a JSON content type unless `contentType` says otherwise.
    func post(_ uri: String, json: String, contentType: String? = "application/json", headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        if let contentType { fields[.contentType] = contentType }
        return try await execute(uri: uri, method: .post, headers: fields, body: ByteBuffer(string: json))
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await execute(uri: uri, method: .get, headers: headers)
    }
}

extension TestResponse {
    /// The body as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }

    var text: String { String(buffer: body) }
}
