import Foundation
import HTTPTypes
import KaiwaAuth

/// Who may call the server, and how much: the `auth.*`, `limits.*` and browser-facing
/// settings (README's "Users and sign-in").
public struct AuthConfiguration: Sendable {
    /// `auth.mode`: `none` (one local user), `jwt`, `api-key` or `jwt,api-key`.
    public var mode = AuthMode.none
    /// `auth.allow.anonymous`: lets `auth.mode=none` listen on a non-loopback address.
    public var allowAnonymous = false
    /// `auth.jwt.discovery.url`: the OIDC discovery document (Cognito:
    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/openid-configuration`).
    public var discoveryURL: URL?
    /// `auth.jwt.allowed.audiences`: `aud` values accepted.
    public var allowedAudiences: [String] = []
    /// `auth.jwt.allowed.clients`: app client ids accepted (`client_id` of Cognito access
    /// tokens, `aud` of its ID tokens).
    public var allowedClients: [String] = []
    /// `auth.oidc.client.id`: the public client the web page signs in with; the first allowed client when unset.
    public var pageClientID: String?
    /// `auth.oidc.scopes`: scopes the page asks for.
    public var pageScopes = "openid email profile"
    /// `auth.failures.per.minute`: failed sign-ins allowed per client address a minute (0: no limit).
    public var failuresPerMinute = 20
    /// `auth.client.address.header`: a header a trusted proxy sets to the client's address
    /// (`X-Forwarded-For`: its last entry); unset, the connection's address.
    public var clientAddressHeader: String?
    /// `limits.requests.per.minute`, `limits.concurrent.replies`, `limits.tokens.per.day`: each
    /// signed-in subject's limits (0: none).
    public var limits = UsageLimits()
    /// `limits.path`: a JSON file of per-user overrides.
    public var limitsPath: String?
    /// `server.allowed.hosts`: `Host` names served besides `localhost`, `127.0.0.1` and
    /// `[::1]` when listening on a loopback address (a defence against DNS rebinding).
    public var allowedHosts: [String] = []

    public init() {}

    init(reading values: StrictValues) throws {
        let rawMode = try values.string("auth.mode", default: "none")
        guard let mode = AuthMode(parsing: rawMode) else {
            throw ConfigurationError(key: "auth.mode", problem: "is \"\(rawMode)\"; use none, jwt, api-key or jwt,api-key.")
        }
        self.mode = mode
        allowAnonymous = try values.bool("auth.allow.anonymous", default: allowAnonymous)
        if let raw = try values.optionalString("auth.jwt.discovery.url") {
            guard let url = URL(string: raw), OIDCKeySet.isAllowedURL(url) else {
                throw ConfigurationError(key: "auth.jwt.discovery.url", problem: "is \"\(raw)\"; it must be an https URL (http only on a loopback address).")
            }
            discoveryURL = url
        }
        allowedAudiences = try values.list("auth.jwt.allowed.audiences", default: [])
        allowedClients = try values.list("auth.jwt.allowed.clients", default: [])
        pageClientID = try values.optionalString("auth.oidc.client.id")
        pageScopes = try values.string("auth.oidc.scopes", default: pageScopes)
        failuresPerMinute = try values.int("auth.failures.per.minute", default: failuresPerMinute, in: 0...1_000_000)
        clientAddressHeader = try values.optionalString("auth.client.address.header")
        if let header = clientAddressHeader, HTTPField.Name(header) == nil {
            throw ConfigurationError(key: "auth.client.address.header", problem: "is \"\(header)\", which is not a header name.")
        }
        limits.requestsPerMinute = try values.int("limits.requests.per.minute", default: limits.requestsPerMinute, in: 0...10_000_000)
        limits.concurrentReplies = try values.int("limits.concurrent.replies", default: limits.concurrentReplies, in: 0...10_000)
        limits.tokensPerDay = try values.int("limits.tokens.per.day", default: limits.tokensPerDay, in: 0...Int(Int64.max / 4))
        limitsPath = try values.optionalString("limits.path")
        allowedHosts = try values.list("server.allowed.hosts", default: []).map { $0.lowercased() }
        if mode.jwt {
            guard discoveryURL != nil else {
                throw ConfigurationError(key: "auth.jwt.discovery.url", problem: "is required when auth.mode includes jwt.")
            }
            guard !allowedAudiences.isEmpty || !allowedClients.isEmpty else {
                throw ConfigurationError(
                    key: "auth.jwt.allowed.clients",
                    problem: "is empty, and so is auth.jwt.allowed.audiences; name at least one, or any application of the identity provider could sign in."
                )
            }
        }
    }

    /// The client id the page signs in with.
    public var webClientID: String? { pageClientID ?? allowedClients.first ?? allowedAudiences.first }
}
