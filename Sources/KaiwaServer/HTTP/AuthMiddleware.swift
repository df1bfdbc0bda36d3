import Foundation
import HTTPTypes
import Hummingbird
import KaiwaAuth
import KaiwaCore
import Logging
import NIOCore

/// Resolves every request's caller once, before any route runs: routes read
/// `context.subject` and never identity headers. `/ping`, `/health`, `/api/auth/config`,
/// `/openapi.json` and the page's own files are open (load balancers, AgentCore and a signed-out browser need
/// them); everything else needs a subject and spends one of its requests a minute.
struct AuthMiddleware<Context: SubjectRequestContext>: RouterMiddleware {
    let authenticator: Authenticator
    let limiter: UsageLimiter
    /// A header a trusted proxy puts the client's address in (its last entry counts).
    let clientAddressHeader: HTTPField.Name?
    /// `apigw.websocket.path`: events from the Lambda Web Adapter, whose callers API Gateway
    /// has already established (the route checks the rest).
    var passThroughPath: String? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !authenticator.mode.isOff, !Self.isOpen(request), request.uri.path != passThroughPath else {
            return try await next(request, context)
        }
        let path = request.uri.path
        let forwarded = clientAddressHeader.flatMap { request.headers[$0] }
        let remote = context.remoteAddress
        let credentials = Credentials(
            authorization: request.headers[.authorization],
            apiKey: request.headers[Self.apiKeyHeader],
            // Tickets exist for WebSocket upgrades alone; anywhere else a URL must not carry credentials.
            ticket: path == "/ws" ? request.uri.queryParameters["ticket"].map(String.init) : nil,
            clientAddress: { Self.clientAddress(forwarded: forwarded, remote: remote) }
        )
        var context = context
        context.subject = try await authenticator.subject(for: credentials)
        context.logger[metadataKey: "subject"] = .string(context.subject.id)
        try await limiter.admitRequest(context.subject)
        return try await next(request, context)
    }

    static func isOpen(_ request: Request) -> Bool {
        let path = request.uri.path
        switch (request.method, path) {
        case (.options, _): return true
        case (_, "/ping"), (_, "/health"), (.get, "/api/auth/config"), (.get, "/openapi.json"): return true
        // It has a token of its own (`metrics.token`), for scrapers rather than users.
        case (.get, "/metrics"): return true
        case (.get, "/"), (.head, "/"): return true
        case (.get, _), (.head, _): return path.hasPrefix("/ui/")
        default: return false
        }
    }

    static var apiKeyHeader: HTTPField.Name { HTTPField.Name("X-API-Key")! }

    /// The last entry of the trusted proxy's header when there is one, else the connection's peer.
    static func clientAddress(forwarded: String?, remote: SocketAddress?) -> String? {
        if let forwarded {
            return forwarded.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return remote?.ipAddress
    }
}
