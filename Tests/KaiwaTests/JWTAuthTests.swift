import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaiwaAuth
import KaiwaCore
import KaiwaServer
import Testing

/// Signing in with OIDC JWTs (Cognito's ID and access tokens) against a fake provider on
/// loopback: what is accepted, what is refused, and that a refusal never echoes the token.
struct JWTAuthTests {
    static func harness(_ provider: FakeIdentityProvider, clock: TestClock = TestClock(Date())) -> AppHarness {
        var harness = AppHarness()
        harness.clock = clock
        harness.configuration.auth.mode = .init(jwt: true, apiKey: false)
        harness.configuration.auth.discoveryURL = URL(string: provider.discoveryURL)
        harness.configuration.auth.allowedClients = [FakeIdentityProvider.clientID]
        harness.configuration.auth.allowedAudiences = ["kaiwa-api"]
        return harness
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    @Test func accessAndIDTokensSignTheCallerInAsTheirSubject() async throws {
        try await FakeIdentityProvider.run { provider in
            let clock = TestClock(Date())
            try await Self.harness(provider, clock: clock).run { client in
                let access = try provider.token(provider.accessClaims(sub: "alice-sub", now: clock.now()))
                let me = try await client.get("/api/me", headers: Self.bearer(access))
                #expect(me.status == .ok)
                #expect(me.json["id"] as? String == "alice-sub")
                #expect(me.json["method"] as? String == "jwt")

                let id = try provider.token(provider.idClaims(sub: "bob-sub", now: clock.now(), name: "Bob"), kid: "ec-1")
                let bob = try await client.get("/api/me", headers: Self.bearer(id))
                #expect(bob.status == .ok)
                #expect(bob.json["name"] as? String == "Bob")

                // An ID token of a provider that does not say `token_use` (Auth0, Keycloak, Entra): its audience is the client.
                var plain = provider.idClaims(sub: "dave", now: clock.now())
                plain["token_use"] = nil
                #expect(try await client.get("/api/me", headers: Self.bearer(provider.token(plain))).status == .ok)

                var api = provider.idClaims(sub: "carol", now: clock.now(), audience: "kaiwa-api")
                api["token_use"] = nil
                #expect(try await client.get("/api/me", headers: Self.bearer(provider.token(api))).status == .ok)
            }
        }
    }

    @Test func badTokensAre401WithBearerChallengeAndNeverEchoed() async throws {
        try await FakeIdentityProvider.run { provider in
            let clock = TestClock(Date())
            let now = clock.now()
            func claims(_ change: (inout [String: Any]) -> Void) -> [String: Any] {
                var claims = provider.accessClaims(sub: "alice", now: now)
                change(&claims)
                return claims
            }
            let valid = try provider.token(provider.accessClaims(sub: "alice", now: now))
            var flipped = Array(valid.utf8)
            flipped[flipped.count - 5] = flipped[flipped.count - 5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let cases: [(String, String)] = [
                ("expired", try provider.token(claims { $0["exp"] = now.timeIntervalSince1970 - 120 })),
                ("not yet valid", try provider.token(claims { $0["nbf"] = now.timeIntervalSince1970 + 600 })),
                ("wrong issuer", try provider.token(claims { $0["iss"] = "https://evil.example.com" })),
                ("wrong client", try provider.token(claims { $0["client_id"] = "other-client" })),
                ("wrong audience", try provider.token(provider.idClaims(sub: "alice", now: now, audience: "other-app"))),
                ("wrong token_use", try provider.token(claims { $0["token_use"] = "refresh" })),
                ("no expiry", try provider.token(claims { $0["exp"] = nil })),
                ("alg none", try provider.token(provider.accessClaims(sub: "alice", now: now), alg: "none")),
                ("HS256 with the public key", try provider.token(provider.accessClaims(sub: "alice", now: now), alg: "HS256")),
                ("RS256 header on the EC key", try provider.token(provider.accessClaims(sub: "alice", now: now), kid: "ec-1", alg: "RS256")),
                ("flipped signature byte", String(decoding: flipped, as: UTF8.self)),
                ("over 16 KiB", try provider.token(claims { $0["padding"] = String(repeating: "x", count: 17_000) })),
                ("not a JWT", "hello"),
            ]
            try await Self.harness(provider, clock: clock).run { client in
                for (name, token) in cases {
                    let response = try await client.get("/api/sessions", headers: Self.bearer(token))
                    #expect(response.status == .unauthorized, "\(name)")
                    #expect(response.json["error"] as? String == "unauthorized", "\(name)")
                    #expect(response.headers[.wwwAuthenticate]?.contains(#"error="invalid_token""#) == true, "\(name)")
                    #expect(!response.text.contains(token.prefix(40)), "\(name)")
                }
                let missing = try await client.get("/api/sessions")
                #expect(missing.status == .unauthorized)
                #expect(missing.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            }
        }
    }

    @Test func leewayOf60SecondsAcceptsAJustExpiredToken() async throws {
        try await FakeIdentityProvider.run { provider in
            let clock = TestClock(Date())
            var claims = provider.accessClaims(sub: "alice", now: clock.now())
            claims["exp"] = clock.now().timeIntervalSince1970 - 30
            let token = try provider.token(claims)
            try await Self.harness(provider, clock: clock).run { client in
                let me = try await client.get("/api/me", headers: Self.bearer(token))
                #expect(me.status == .ok)
            }
        }
    }

    @Test func aRotatedKeyIsFetchedOnItsFirstTokenAtMostOnceAMinute() async throws {
        try await FakeIdentityProvider.run { provider in
            let clock = TestClock(Date())
            try await Self.harness(provider, clock: clock).run { client in
                #expect(provider.jwksFetches.value == 1)
                provider.published.set(["rsa-1", "rsa-2", "ec-1"])
                // Fetched at start a moment ago: an unknown key id is refused without asking again.
                let rotated = try provider.token(provider.accessClaims(sub: "alice", now: clock.now()), kid: "rsa-2")
                #expect(try await client.get("/api/me", headers: Self.bearer(rotated)).status == .unauthorized)
                #expect(provider.jwksFetches.value == 1)
                clock.advance(seconds: 61)
                let later = try provider.token(provider.accessClaims(sub: "alice", now: clock.now()), kid: "rsa-2")
                #expect(try await client.get("/api/me", headers: Self.bearer(later)).status == .ok)
                #expect(provider.jwksFetches.value == 2)
                // Keys the provider stopped publishing stop working after the next fetch.
                provider.published.set(["rsa-2"])
                clock.advance(seconds: 61)
                let unknown = try provider.token(provider.accessClaims(sub: "alice", now: clock.now()), kid: "rsa-3")
                #expect(try await client.get("/api/me", headers: Self.bearer(unknown)).status == .unauthorized)
                let retired = try provider.token(provider.accessClaims(sub: "alice", now: clock.now()), kid: "ec-1")
                #expect(try await client.get("/api/me", headers: Self.bearer(retired)).status == .unauthorized)
            }
        }
    }

    @Test func pingHealthAndTheSignInConfigStayOpen() async throws {
        try await FakeIdentityProvider.run { provider in
            try await Self.harness(provider).run { client in
                #expect(try await client.get("/ping").status == .ok)
                #expect(try await client.get("/health").status == .ok)
                #expect(try await client.get("/").status == .ok)
                let config = try await client.get("/api/auth/config")
                #expect(config.status == .ok)
                #expect(config.json["mode"] as? String == "jwt")
                let oidc = config.json["oidc"] as? [String: Any]
                #expect(oidc?["issuer"] as? String == provider.issuer)
                #expect(oidc?["client_id"] as? String == FakeIdentityProvider.clientID)
                #expect(oidc?["authorization_endpoint"] as? String == provider.baseURL + "/oauth2/authorize")
                #expect(oidc?["end_session_endpoint"] as? String == provider.baseURL + "/logout")
                #expect(try await client.post("/chat", json: #"{"message":"hi"}"#).status == .unauthorized)
                #expect(try await client.get("/api/agents").status == .unauthorized)
            }
        }
    }

    @Test func aDiscoveryURLThatCannotBeFetchedStopsStartUp() async throws {
        var harness = AppHarness()
        harness.configuration.auth.mode = .init(jwt: true, apiKey: false)
        harness.configuration.auth.discoveryURL = URL(string: "http://127.0.0.1:\(try freeLoopbackPort())/.well-known/openid-configuration")
        harness.configuration.auth.allowedClients = ["x"]
        await #expect(throws: ConfigurationError.self) {
            try await harness.run { _ in }
        }
    }
}

/// The key set as a provider may publish it, broken entries included.
struct OIDCKeySetTests {
    struct Documents: DocumentFetcher {
        let jwks: String
        func fetch(_ url: URL) async throws -> Data {
            url.path.hasSuffix("openid-configuration")
                ? Data(#"{"issuer":"https://idp.example.com","jwks_uri":"https://idp.example.com/jwks"}"#.utf8) : Data(jwks.utf8)
        }
    }

    @Test func entriesThatAreNotKeysAreSkippedNotFatal() async throws {
        let keys = OIDCKeySet(
            discoveryURL: URL(string: "https://idp.example.com/.well-known/openid-configuration")!,
            fetcher: Documents(jwks: #"{"keys":[null, 42, "x", [], {"kty":"oct","kid":"h","k":"c2VjcmV0"}, {"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB","use":"enc","alg":"RSA-OAEP"}]}"#)
        )
        try await keys.load()
        #expect(await keys.discovery?.issuer == "https://idp.example.com")
    }

    @Test func aDiscoveryDocumentThatIsNotOneIsAnError() async throws {
        let keys = OIDCKeySet(discoveryURL: URL(string: "https://idp.example.com/x")!, fetcher: Documents(jwks: "[]"))
        await #expect(throws: OIDCError.self) { try await keys.load() }
    }
}
