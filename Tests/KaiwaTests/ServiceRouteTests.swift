import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaiwaCore
import KaiwaStore
import Testing

/// Health, ping, the web page, CORS, request ids and unknown routes.
struct ServiceRouteTests {
    @Test func healthReportsVersionModelAndStore() async throws {
        try await AppHarness().run { client in
            let response = try await client.get("/health")
            #expect(response.status == .ok)
            #expect(response.json["status"] as? String == "ok")
            #expect(response.json["version"] as? String == KaiwaVersion.current)
            #expect(response.json["model"] as? String == "rules")
            #expect(response.json["store"] as? String == "memory")
        }
    }

    @Test func healthIs503WhenTheStoreIsUnusable() async throws {
        var harness = AppHarness()
        harness.store = FailingStore()
        try await harness.run { client in
            let response = try await client.get("/health")
            #expect(response.status == .serviceUnavailable)
            #expect(response.json["status"] as? String == "unavailable")
            #expect(response.json["error"] as? String == "service_unavailable")
        }
    }

    @Test func pingAnswersTheAgentCoreContract() async throws {
        let harness = AppHarness()
        try await harness.run { client in
            let response = try await client.get("/ping")
            #expect(response.status == .ok)
            #expect(response.json["status"] as? String == "Healthy")
            #expect(response.json["time_of_last_update"] as? Int == Int(harness.clock.now().timeIntervalSince1970))
            #expect(response.json["service"] as? String == "kaiwa")
            #expect(response.json["version"] as? String == KaiwaVersion.current)
            #expect(response.json["timestamp"] is String)
        }
    }

    @Test func rootServesTheChatPage() async throws {
        try await AppHarness().run { client in
            let response = try await client.get("/")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            #expect(response.text.contains("<form"))
            #expect(response.text.contains(#"src="ui/app.js""#))
            let script = try await client.get("/ui/app.js")
            #expect(script.status == .ok)
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(try await client.get("/ui/app.css").headers[.contentType] == "text/css; charset=utf-8")
            #expect(try await client.get("/ui/index.html").status == .notFound)
            #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(response.headers[HTTPField.Name("Content-Security-Policy")!] == "frame-ancestors 'none'")
            let head = try await client.execute(uri: "/ui/app.js", method: .head)
            #expect(head.status == .ok)
            #expect(head.headers[.contentLength] == String(script.body.readableBytes))
        }
    }

    @Test func unknownRouteIsAJSON404() async throws {
        try await AppHarness().run { client in
            let response = try await client.get("/nothing/here")
            #expect(response.status == .notFound)
            #expect(response.json["error"] as? String == "not_found")
            let traversal = try await client.get("/ui/../Package.swift")
            #expect(traversal.status == .notFound)
        }
    }

    @Test func anyOriginMayCallWhenStarIsAllowed() async throws {
        var harness = AppHarness()
        harness.configuration.corsAllowedOrigins = ["*"]
        try await harness.run { client in
            let response = try await client.post("/chat", json: #"{"message":"hi"}"#, headers: [.origin: "https://app.example"])
            #expect(response.headers[.accessControlAllowOrigin] == "*")
            #expect(response.headers[.accessControlAllowCredentials] == nil)
            let preflight = try await client.execute(
                uri: "/chat", method: .options,
                headers: [.origin: "https://app.example", .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "content-type"]
            )
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "*")
            #expect(preflight.headers[.accessControlAllowMethods]?.contains("POST") == true)
            #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Content-Type") == true)
        }
    }

    @Test func onlyListedOriginsMayCallWhenConfigured() async throws {
        var harness = AppHarness()
        harness.configuration.corsAllowedOrigins = ["https://chat.example"]
        try await harness.run { client in
            let allowed = try await client.get("/health", headers: [.origin: "https://chat.example"])
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://chat.example")
            #expect(allowed.headers[.vary] == "Origin")
            let other = try await client.get("/health", headers: [.origin: "https://evil.example"])
            #expect(other.status == .forbidden)
            #expect(other.headers[.accessControlAllowOrigin] == nil)
            let preflight = try await client.execute(
                uri: "/chat", method: .options, headers: [.origin: "https://evil.example", .accessControlRequestMethod: "POST"]
            )
            #expect(preflight.status == .forbidden)
        }
    }

    @Test func errorResponsesCarryCORSHeadersToo() async throws {
        var harness = AppHarness()
        harness.configuration.corsAllowedOrigins = ["https://app.example"]
        try await harness.run { client in
            let response = try await client.post("/chat", json: "{", headers: [.origin: "https://app.example"])
            #expect(response.status == .badRequest)
            #expect(response.headers[.accessControlAllowOrigin] == "https://app.example")
        }
    }

    @Test func requestIDIsEchoedOrMade() async throws {
        try await AppHarness().run { client in
            let given = try await client.get("/health", headers: [HTTPField.Name("X-Request-Id")!: "abc-123"])
            #expect(given.headers[HTTPField.Name("X-Request-Id")!] == "abc-123")
            let made = try await client.get("/health")
            #expect(made.headers[HTTPField.Name("X-Request-Id")!]?.isEmpty == false)
        }
    }
}
