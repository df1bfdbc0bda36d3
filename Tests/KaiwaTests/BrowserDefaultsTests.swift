import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import KaiwaServer
import Testing

/// What a web page on another site can do with a Kaiwa on the visitor's machine: nothing,
/// unless the operator allows its origin or host.
struct BrowserDefaultsTests {
    @Test func aCrossSiteRequestIsRefusedUnlessItsOriginIsAllowed() async throws {
        try await AppHarness().run { client in
            let evil = try await client.get("/api/sessions", headers: [.origin: "https://evil.example"])
            #expect(evil.status == .forbidden)
            #expect(evil.headers[.accessControlAllowOrigin] == nil)
            let preflight = try await client.execute(
                uri: "/chat", method: .options, headers: [.origin: "https://evil.example", .accessControlRequestMethod: "POST"]
            )
            #expect(preflight.status == .forbidden)
            let samePage = try await client.post("/chat", json: #"{"message":"hi"}"#, headers: [.origin: "http://localhost"])
            #expect(samePage.status == .ok)
        }
        var allowed = AppHarness()
        allowed.configuration.corsAllowedOrigins = ["https://chat.example.com"]
        try await allowed.run { client in
            let listed = try await client.get("/api/sessions", headers: [.origin: "https://chat.example.com"])
            #expect(listed.status == .ok)
            #expect(listed.headers[.accessControlAllowOrigin] == "https://chat.example.com")
            #expect(try await client.get("/api/sessions", headers: [.origin: "https://evil.example"]).status == .forbidden)
        }
    }

    /// Sends a request with its own `Host` header, as a browser tricked by DNS rebinding would.
    static func get(port: Int, path: String, host: String) async throws -> (status: Int, body: String, nosniff: String?) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.headers.replaceOrAdd(name: "Host", value: host)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: body), response.headers.first(name: "X-Content-Type-Options"))
    }

    @Test func aRebindingHostIsRefusedOnALoopbackAddressUnlessAllowed() async throws {
        try await AppHarness().runLive { port in
            for host in ["localhost:\(port)", "127.0.0.1:\(port)", "[::1]:\(port)", "LOCALHOST"] {
                #expect(try await Self.get(port: port, path: "/api/sessions", host: host).status == 200, "\(host)")
            }
            let rebound = try await Self.get(port: port, path: "/api/sessions", host: "attacker.example:\(port)")
            #expect(rebound.status == 403)
            #expect(rebound.body.contains("server.allowed.hosts"))
            #expect(rebound.nosniff == "nosniff")
        }
        var allowed = AppHarness()
        allowed.configuration.auth.allowedHosts = ["kaiwa.lan"]
        try await allowed.runLive { port in
            let named = try await Self.get(port: port, path: "/api/sessions", host: "kaiwa.lan:\(port)")
            #expect(named.status == 200)
        }
    }

    @Test func anyLoopbackAddressIsGuardedAndOnlyLoopbackAddressesCountAsSuch() async throws {
        var other = AppHarness()
        other.configuration.host = "127.0.0.2"
        try await other.runLive { port in
            #expect(try await Self.get(port: port, path: "/api/sessions", host: "127.0.0.2:\(port)").status == 200)
            let rebound = try await Self.get(port: port, path: "/api/sessions", host: "rebind.example:\(port)")
            #expect(rebound.status == 403)
        }
        var named = AppHarness()
        named.configuration.host = "127.example.com"
        await #expect(throws: ConfigurationError.self) {
            try await named.run { _ in }
        }
    }

    @Test func apiResponsesSayNosniffAndNoReferrer() async throws {
        try await AppHarness().run { client in
            for response in [try await client.get("/api/sessions"), try await client.get("/api/sessions/nope"), try await client.get("/health")] {
                #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            }
        }
    }

    /// The route refuses with 403; hummingbird-websocket answers every refused upgrade with a bare 400.
    @Test func aWebSocketFromAnotherSiteIsRefused() async throws {
        try await AppHarness().runLive { port in
            let evil = try await rawHTTPExchange(port: port, webSocketUpgrade("/ws", port: port, headers: ["Origin: https://evil.example"]))
            #expect(evil.hasPrefix("HTTP/1.1 400") && !evil.contains("101"))
            let twoOrigins = try await rawHTTPExchange(
                port: port, webSocketUpgrade("/ws", port: port, headers: ["Origin: http://127.0.0.1:\(port)", "Origin: https://evil.example"])
            )
            #expect(twoOrigins.hasPrefix("HTTP/1.1 400") && !twoOrigins.contains("101"))
            let samePage = try await rawHTTPExchange(port: port, webSocketUpgrade("/ws", port: port, headers: ["Origin: http://127.0.0.1:\(port)"]))
            #expect(samePage.hasPrefix("HTTP/1.1 101"))
            let sandboxed = try await rawHTTPExchange(port: port, webSocketUpgrade("/ws", port: port, headers: ["Origin: null"]))
            #expect(sandboxed.hasPrefix("HTTP/1.1 400") && !sandboxed.contains("101"))
        }
    }

    @Test func noAuthenticationOnAPublicAddressRefusesToStartUnlessAllowed() async throws {
        var open = AppHarness()
        open.configuration.host = "0.0.0.0"
        await #expect(throws: ConfigurationError.self) {
            try await open.run { _ in }
        }
        open.configuration.auth.allowAnonymous = true
        try await open.run { client in
            let ping = try await client.get("/ping")
            #expect(ping.status == .ok)
        }
    }

    @Test func kaiwaServeOnAPublicAddressWithoutSignInExitsSayingWhy() async throws {
        let directory = try makeTemporaryDirectory()
        let run = try await StoreCommandTests.run(
            ["serve", "--host", "0.0.0.0", "--port", "\(try freeLoopbackPort())"],
            environment: ["KAIWA_SQLITE_PATH": directory.appendingPathComponent("k.sqlite").path, "KAIWA_LOG_LEVEL": "warning"]
        )
        #expect(run.status != 0)
        #expect((run.output + run.errors).contains("auth.allow.anonymous"))
    }

    @Test func authSettingsAreCheckedWhenRead() async throws {
        func read(_ environment: [String: String]) async throws -> KaiwaConfiguration {
            try KaiwaConfiguration(reader: try await KaiwaConfiguration.reader(environment: environment))
        }
        #expect(try await read(["KAIWA_AUTH_MODE": "api-key,jwt", "KAIWA_AUTH_JWT_DISCOVERY_URL": "https://idp.example.com/.well-known/openid-configuration", "KAIWA_AUTH_JWT_ALLOWED_CLIENTS": "a, b"]).auth.allowedClients == ["a", "b"])
        await #expect(throws: ConfigurationError.self) { try await read(["KAIWA_AUTH_MODE": "password"]) }
        await #expect(throws: ConfigurationError.self) { try await read(["KAIWA_AUTH_MODE": "jwt"]) }
        await #expect(throws: ConfigurationError.self) {
            try await read(["KAIWA_AUTH_MODE": "jwt", "KAIWA_AUTH_JWT_DISCOVERY_URL": "http://idp.example.com/x", "KAIWA_AUTH_JWT_ALLOWED_CLIENTS": "a"])
        }
        await #expect(throws: ConfigurationError.self) {
            try await read(["KAIWA_AUTH_MODE": "jwt", "KAIWA_AUTH_JWT_DISCOVERY_URL": "https://idp.example.com/x"])
        }
        #expect(try await read([:]).corsAllowedOrigins.isEmpty)
    }
}
