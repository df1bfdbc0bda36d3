import JWTKit

/// The claims Kaiwa reads from an OIDC ID or access token (Cognito's included). Their checks
/// are `JWTVerifier`'s, against its clock; jwt-kit checks only the signature.
struct OIDCClaims: JWTPayload {
    var iss: String?
    var sub: String?
    var exp: Double?
    var nbf: Double?
    var aud: AudienceClaim?
    /// Cognito access tokens name their app client here instead of in `aud`.
    var clientID: String?
    /// Cognito: `id` or `access`.
    var tokenUse: String?
    var name: String?
    var email: String?
    var cognitoUsername: String?
    /// Cognito access tokens name the user here (they carry no `name` or `email`).
    var username: String?

    enum CodingKeys: String, CodingKey {
        case iss, sub, exp, nbf, aud, name, email, username
        case clientID = "client_id"
        case tokenUse = "token_use"
        case cognitoUsername = "cognito:username"
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
