import Crypto
import _CryptoExtras
import Foundation
import Hummingbird

/// A fake OIDC provider (Cognito-like) for tests: a discovery document and a JWKS on a
/// loopback port, signing keys made in the test (two RSA, one P-256), and tokens signed by
/// hand so that broken ones (`alg: none`, HS256, a flipped byte) can be made too.
final class FakeIdentityProvider: Sendable {
    let rsaKeys: [String: _RSA.Signing.PrivateKey]
    let ecKey = P256.Signing.PrivateKey()
    /// The key ids the JWKS publishes now (a test rotates keys by changing it).
    let published = Shared<[String]>(["rsa-1", "ec-1"])
    let jwksFetches = CallCounter()
    let baseURL: String
    static let clientID = "web-client"

    init(baseURL: String) throws {
        self.baseURL = baseURL
        rsaKeys = [
            "rsa-1": try _RSA.Signing.PrivateKey(keySize: .bits2048),
            "rsa-2": try _RSA.Signing.PrivateKey(keySize: .bits2048),
        ]
    }

    var issuer: String { baseURL }
    var discoveryURL: String { baseURL + "/.well-known/openid-configuration" }

    /// Runs a provider on a loopback port while `body` runs.
    static func run(_ body: @Sendable (FakeIdentityProvider) async throws -> Void) async throws {
        let holder = Shared<FakeIdentityProvider?>(nil)
        try await withFakeUpstream({ router in
            router.get("/.well-known/openid-configuration") { _, _ in
                guard let provider = holder.get() else { return Response(status: .serviceUnavailable) }
                return Self.json(
                    [
                        "issuer": provider.issuer, "jwks_uri": provider.baseURL + "/jwks.json",
                        "authorization_endpoint": provider.baseURL + "/oauth2/authorize", "token_endpoint": provider.baseURL + "/oauth2/token",
                    ]
                )
            }
            router.get("/jwks.json") { _, _ in
                guard let provider = holder.get() else { return Response(status: .serviceUnavailable) }
                _ = provider.jwksFetches.next()
                return Self.json(["keys": try provider.published.get().map(provider.publicJWK)])
            }
        }) { baseURL in
            let provider = try FakeIdentityProvider(baseURL: baseURL)
            holder.set(provider)
            try await body(provider)
        }
    }

    func publicJWK(_ kid: String) throws -> [String: String] {
        if kid == "ec-1" {
            let point = ecKey.publicKey.x963Representation.dropFirst()
            return ["kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "x": Self.base64URL(point.prefix(32)), "y": Self.base64URL(point.suffix(32))]
        }
        guard let key = rsaKeys[kid] else { return [:] }
        let primitives = try key.publicKey.getKeyPrimitives()
        return ["kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": Self.base64URL(primitives.modulus), "e": Self.base64URL(primitives.publicExponent)]
    }

    /// Claims of a valid Cognito access token for `sub`, `now` being the test clock's time.
    func accessClaims(sub: String, now: Date, client: String = FakeIdentityProvider.clientID) -> [String: Any] {
        ["iss": issuer, "sub": sub, "client_id": client, "token_use": "access", "username": sub, "exp": now.timeIntervalSince1970 + 3600, "iat": now.timeIntervalSince1970]
    }

    /// Claims of a valid Cognito ID token for `sub`.
    func idClaims(sub: String, now: Date, audience: String = FakeIdentityProvider.clientID, name: String? = nil) -> [String: Any] {
        var claims: [String: Any] = [
            "iss": issuer, "sub": sub, "aud": audience, "token_use": "id", "email": "\(sub)@example.com",
            "exp": now.timeIntervalSince1970 + 3600, "iat": now.timeIntervalSince1970,
        ]
        if let name { claims["name"] = name }
        return claims
    }

    /// A token signed by the key `kid` with `alg` (`RS256`, `ES256`; `none` and `HS256` sign as those do).
    func token(_ claims: [String: Any], kid: String = "rsa-1", alg: String? = nil) throws -> String {
        let algorithm = alg ?? (kid.hasPrefix("ec") ? "ES256" : "RS256")
        let header = try JSONSerialization.data(withJSONObject: ["alg": algorithm, "kid": kid, "typ": "JWT"], options: .sortedKeys)
        let payload = try JSONSerialization.data(withJSONObject: claims, options: .sortedKeys)
        let input = Self.base64URL(header) + "." + Self.base64URL(payload)
        let signature: Data
        switch algorithm {
        case "none":
            return input + "."
        case "HS256":
            // The classic confusion attack: the public key's bytes used as an HMAC secret.
            let secret = SymmetricKey(data: try rsaKeys["rsa-1"]!.publicKey.getKeyPrimitives().modulus)
            signature = Data(HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: secret))
        case "ES256":
            signature = try ecKey.signature(for: Data(input.utf8)).rawRepresentation
        default:
            // A key id the provider does not know (or an EC one) is signed with an RSA key it does.
            let key = rsaKeys[kid] ?? rsaKeys["rsa-1"]!
            signature = try key.signature(for: SHA256.hash(data: Data(input.utf8)), padding: .insecurePKCS1v1_5).rawRepresentation
        }
        return input + "." + Self.base64URL(signature)
    }

    static func base64URL(_ bytes: some DataProtocol) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func json(_ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
