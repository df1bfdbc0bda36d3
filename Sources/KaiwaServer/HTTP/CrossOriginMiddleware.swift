import Foundation
import HTTPTypes
import Hummingbird
import KaiwaCore

/// Which browser origins may call the API: the page's own (same origin) and those listed.
/// None is listed by default, so another site's page cannot read or change a Kaiwa's history
/// from a visitor's browser; the deploy templates list the page's origin when it is hosted
/// elsewhere (S3 and CloudFront).
public struct CORSPolicy: Sendable, Hashable {
    /// Exact origins such as `https://chat.example.com`, or `*` for any.
    public var allowedOrigins: [String]

    public init(allowedOrigins: [String] = []) {
        self.allowedOrigins = allowedOrigins
    }

    var allowsAnyOrigin: Bool { allowedOrigins.contains("*") }

    /// Whether a request from `origin` may be served, given the `Host` it was sent to.
    func allows(_ origin: String, host: String?) -> Bool {
        allowsAnyOrigin || allowedOrigins.contains(origin) || Self.isSameOrigin(origin, host: host)
    }

    /// The page was served by this server: its origin's host and port are the `Host` asked for
    /// (the scheme is not compared; a TLS proxy may sit in between).
    static func isSameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host, let schemeEnd = origin.range(of: "://") else { return false }
        return origin[schemeEnd.upperBound...].lowercased() == host.lowercased()
    }
}

/// Adds CORS headers to responses for allowed origins and answers preflight requests; a
/// request from an origin that is not allowed (a WebSocket upgrade included) is refused with
/// 403 before it runs. Hummingbird's CORSMiddleware allows one origin or all; Kaiwa needs a
/// list and the same-origin rule.
struct CrossOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: CORSPolicy

    static var allowedMethods: String { "GET, POST, DELETE, OPTIONS" }
    static var allowedHeaders: String {
        [
            "Content-Type", "Authorization", "Accept", "Last-Event-ID", "X-Request-Id", "X-Amz-Date", "X-Api-Key",
            "X-Amz-Security-Token", "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id",
        ].joined(separator: ", ")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let origins = request.headers[values: .origin]
        guard let origin = origins.first else {
            return try await next(request, context)
        }
        let isPreflight = request.method == .options && request.headers[.accessControlRequestMethod] != nil
        // A browser sends one Origin; two are someone's attempt to slip one past a check.
        guard origins.count == 1 else { return Self.refusal(origins.joined(separator: ", ")) }
        if Self.isNotAWebPage(origin) { return try await next(request, context) }
        guard policy.allows(origin, host: request.head.authority) else { return Self.refusal(origin) }
        if isPreflight {
            var headers = corsHeaders(for: origin)
            headers[.accessControlAllowMethods] = Self.allowedMethods
            headers[.accessControlAllowHeaders] = Self.allowedHeaders
            headers[.accessControlMaxAge] = "600"
            return Response(status: .noContent, headers: headers)
        }
        var response = try await next(request, context)
        for field in corsHeaders(for: origin) {
            response.headers[field.name] = field.value
        }
        return response
    }

    /// Browsers send the page's origin, `http(s)://…` or `null`. Anything else (Hummingbird's
    /// WebSocket client sends `ws://host`) comes from a program that could send any header it
    /// likes, which CORS does not concern.
    static func isNotAWebPage(_ origin: String) -> Bool {
        let lowered = origin.lowercased()
        return !(lowered.hasPrefix("http://") || lowered.hasPrefix("https://") || lowered == "null")
    }

    static func refusal(_ origin: String) -> Response {
        ErrorResponseMiddleware<Context>.response(
            for: KaiwaError(.forbidden, "Origin \(origin) is not allowed to call this server; list it in cors.allowed.origins.")
        )
    }

    private func corsHeaders(for origin: String) -> HTTPFields {
        var headers = HTTPFields()
        if policy.allowsAnyOrigin {
            headers[.accessControlAllowOrigin] = "*"
        } else {
            headers[.accessControlAllowOrigin] = origin
            headers[.vary] = "Origin"
        }
        headers[.accessControlExposeHeaders] = "X-Request-Id, Retry-After, WWW-Authenticate"
        return headers
    }
}
