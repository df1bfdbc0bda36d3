import Foundation
import Hummingbird
import KaiwaCore
import KaiwaModels
import KaiwaStore
import Logging
import Testing

@testable import KaiwaServer

/// `web/openapi.json` describes the API the router really has: every route, and nothing else.
/// (Its validity as OpenAPI 3.1, and responses matching it, are checked by Tests/API.)
struct OpenAPIDocumentTests {
    static let documentURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("web/openapi.json")

    /// `GET /api/sessions/{id}` for each operation of the document.
    static func documentedOperations() throws -> Set<String> {
        let data = try Data(contentsOf: documentURL)
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        return Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
    }

    /// The router's routes in OpenAPI's spelling: `:id` → `{id}`, the `/ui/**` catch-all → `/ui/{path}`.
    /// Metrics are on, so that `/metrics` is routed too (the document says when it is not).
    static func routedOperations() async throws -> Set<String> {
        let dependencies = AppDependencies(store: InMemoryChatStore(), model: RulesModel())
        var configuration = KaiwaConfiguration()
        configuration.metricsEnabled = true
        let (router, _) = try await buildRouter(configuration, dependencies: dependencies, logger: Logger(label: "test"))
        return Set(
            router.routes.map { route in
                // A capture prints as `{id}` already.
                let path = route.path.components.map { $0.description == "**" ? "{path}" : $0.description }.joined(separator: "/")
                return "\(route.method) /\(path)"
            }
        )
    }

    @Test func theOpenAPIDocumentListsEveryRouteAndNothingElse() async throws {
        let documented = try Self.documentedOperations()
        let routed = try await Self.routedOperations()
        #expect(routed.subtracting(documented).sorted() == [], "routes missing from web/openapi.json")
        #expect(documented.subtracting(routed).sorted() == [], "documented operations the router does not have")
        #expect(routed.contains("POST /v1/chat/completions"))
    }
}
