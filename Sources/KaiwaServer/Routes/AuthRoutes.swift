import Hummingbird
import KaiwaAuth
import KaiwaCore

/// What the page needs to sign in, and who it signed in as:
/// `GET /api/auth/config` (open), `POST /api/auth/ticket` (a WebSocket ticket), `GET /api/me`.
struct AuthRoutes<Context: SubjectRequestContext> {
    let authenticator: Authenticator
    let limiter: UsageLimiter
    let settings: AuthConfiguration

    struct AuthConfig: Encodable {
        var mode: String
        var jwt: Bool
        var apiKey: Bool
        var oidc: OIDC?
    }

    /// The identity provider's endpoints for the authorization-code flow with PKCE.
    struct OIDC: Encodable {
        var issuer: String
        var authorizationEndpoint: String?
        var tokenEndpoint: String?
        var endSessionEndpoint: String?
        var clientId: String?
        var scopes: String
    }

    struct Ticket: Encodable {
        var ticket: String
        var expiresIn: Int
    }

    struct Me: Encodable {
        var id: String
        var name: String
        var method: String
        var limits: UsageLimits
        var usage: Usage
    }

    struct Usage: Encodable {
        var tokensToday: Int
        var repliesRunning: Int
    }

    func add(to router: Router<Context>) {
        router.get("/api/auth/config") { _, _ in
            var oidc: OIDC?
            if let discovery = await authenticator.jwt?.keys.discovery {
                oidc = OIDC(
                    issuer: discovery.issuer, authorizationEndpoint: discovery.authorizationEndpoint, tokenEndpoint: discovery.tokenEndpoint,
                    endSessionEndpoint: discovery.logoutEndpoint, clientId: settings.webClientID, scopes: settings.pageScopes
                )
            }
            let mode = authenticator.mode
            return try JSONResponse.make(AuthConfig(mode: mode.description, jwt: mode.jwt, apiKey: mode.apiKey, oidc: oidc))
        }
        router.post("/api/auth/ticket") { _, context in
            let ticket = try await authenticator.tickets.issue(for: context.subject)
            return try JSONResponse.make(Ticket(ticket: ticket, expiresIn: Int(authenticator.tickets.lifetime)))
        }
        router.get("/api/me") { _, context in
            let subject = context.subject
            let usage = try await limiter.usage(of: subject)
            return try JSONResponse.make(
                Me(
                    id: subject.id, name: subject.name, method: subject.method.rawValue, limits: usage.limits,
                    usage: Usage(tokensToday: usage.tokensToday, repliesRunning: usage.repliesRunning)
                )
            )
        }
    }
}
