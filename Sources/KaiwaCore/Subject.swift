/// Who is calling: resolved once per request by the server's authentication middleware and
/// handed to routes and the chat service, which never read identity headers themselves.
public struct Subject: Sendable, Hashable {
    /// How the caller proved who they are.
    public enum Method: String, Sendable, Hashable, Codable {
        /// Authentication is off (`auth.mode=none`): everyone is the one local user.
        case local
        /// An OIDC (Cognito) JWT in `Authorization: Bearer`.
        case jwt
        /// A Kaiwa API key (`kw_…`) in `Authorization: Bearer` or `X-API-Key`.
        case apiKey = "api_key"
    }

    /// A stable id: the token's `sub`, or the user an API key was made for.
    public var id: String
    /// A name to show: the token's `name`, `email` or `cognito:username`, or the key's user.
    public var name: String
    public var method: Method

    public init(id: String, name: String, method: Method) {
        self.id = id
        self.name = name
        self.method = method
    }

    /// The one user of a server without authentication.
    public static let local = Subject(id: "local", name: "Local user", method: .local)

    /// What sessions store as their owner: `nil` for the local user (sessions made before
    /// authentication existed belong to them), the subject's id otherwise. JWT subjects and API
    /// keys share one namespace: a key made for a token's `sub` sees that user's history.
    public var owner: String? { method == .local ? nil : id }
}
