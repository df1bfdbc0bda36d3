import HTTPTypes
import Hummingbird
import KaiwaCore

/// Which browser origins may call the API. The default, like the seeds, allows any origin
/// without credentials.
public struct CORSPolicy: Sendable, Hashable {
    /// Exact origins such as `https://chat.example.com`, or `*` for any.
    public var allowedOrigins: [String]

    public init(allowedOrigins: [String] = ["*"]) {
        self.allowedOrigins = allowedOrigins
    }

    var allowsAnyOrigin: Bool { allowedOrigins.contains("*") }

    func allows(_ origin: String) -> Bool {
        allowsAnyOrigin || allowedOrigins.contains(origin)
    }
}

/// Adds CORS headers to responses for allowed origins and answers preflight requests.
/// Hummingbird's CORSMiddleware allows one origin or all; Kaiwa needs a list.
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
        guard let origin = request.headers[.origin] else {
            return try await next(request, context)
        }
        let isPreflight = request.method == .options && request.headers[.accessControlRequestMethod] != nil
        guard policy.allows(origin) else {
            if isPreflight {
                return ErrorResponseMiddleware<Context>.response(for: KaiwaError(.forbidden, "Origin \(origin) is not allowed to call this server."))
            }
            return try await next(request, context)
        }
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

    private func corsHeaders(for origin: String) -> HTTPFields {
        var headers = HTTPFields()
        if policy.allowsAnyOrigin {
            headers[.accessControlAllowOrigin] = "*"
        } else {
            headers[.accessControlAllowOrigin] = origin
            headers[.vary] = "Origin"
        }
        headers[.accessControlExposeHeaders] = "X-Request-Id"
        return headers
    }
}
