import Crypto
import Foundation
import JWTKit
import KaiwaCore
import Synchronization

/// Verifies OIDC JWTs as AgentCore's JWT authorizer does (discovery URL, allowed audiences,
/// allowed clients): RS256 or ES256 only, with the algorithm its key was published for; the
/// discovery document's issuer; `exp` and `nbf` with a leeway; `aud` (ID tokens) or
/// `client_id` (Cognito access tokens) among the allowed ones; `token_use` when present.
///
/// Verified tokens are remembered until they expire, keyed by their SHA-256, so a client
/// sending the same token on every request pays for one signature check.
public final class JWTVerifier: Sendable {
    public let keys: OIDCKeySet
    let allowedAudiences: Set<String>
    let allowedClients: Set<String>
    let leeway: TimeInterval
    let clock: any WallClock
    private let verified = Mutex<[SHA256.Digest: (subject: Subject, until: Date)]>([:])

    /// Tokens longer than this are refused unread.
    public static let maxTokenBytes = 16 * 1024
    static let maxCachedTokens = 10_000

    public init(keys: OIDCKeySet, allowedAudiences: Set<String>, allowedClients: Set<String>, leeway: TimeInterval = 60, clock: any WallClock = SystemWallClock()) {
        self.keys = keys
        self.allowedAudiences = allowedAudiences
        self.allowedClients = allowedClients
        self.leeway = leeway
        self.clock = clock
    }

    /// The token's subject if it was verified before and has not expired.
    public func cachedSubject(for token: String) -> Subject? {
        let now = clock.now()
        let key = Self.cacheKey(token)
        return verified.withLock { cache in
            guard let entry = cache[key], now < entry.until else { return nil }
            return entry.subject
        }
    }

    /// The subject the token names, or `KaiwaError.unauthorized` saying what is wrong with it
    /// (never the token itself).
    public func verify(_ token: String) async throws(KaiwaError) -> Subject {
        if let subject = cachedSubject(for: token) { return subject }
        guard token.utf8.count <= Self.maxTokenBytes else { throw Self.invalid("The token is too long.") }
        let header = try Self.header(of: token)
        guard let algorithm = header.alg, ["RS256", "ES256"].contains(algorithm) else {
            throw Self.invalid("Tokens must be signed with RS256 or ES256.")
        }
        guard let kid = header.kid, let key = await keys.key(id: kid) else {
            throw Self.invalid("The token was signed with a key the identity provider does not publish.")
        }
        guard key.algorithm == algorithm else { throw Self.invalid("The token's algorithm is not its key's.") }
        let claims: OIDCClaims
        do {
            claims = try await key.collection.verify(token, as: OIDCClaims.self)
        } catch {
            throw Self.invalid("The token's signature is not valid.")
        }
        let until = try check(claims, issuer: await keys.discovery?.issuer)
        let subject = Subject(
            id: claims.sub ?? "", name: claims.name ?? claims.email ?? claims.cognitoUsername ?? claims.username ?? claims.sub ?? "", method: .jwt
        )
        remember(token, as: subject, until: until)
        return subject
    }

    /// Checks the claims; returns until when the token may be used.
    func check(_ claims: OIDCClaims, issuer: String?) throws(KaiwaError) -> Date {
        let now = clock.now()
        guard let issuer, claims.iss == issuer else { throw Self.invalid("The token was not issued by the configured identity provider.") }
        guard let exp = claims.exp else { throw Self.invalid("The token has no expiry.") }
        guard now.timeIntervalSince1970 <= exp + leeway else { throw Self.invalid("The token has expired.") }
        if let nbf = claims.nbf, now.timeIntervalSince1970 < nbf - leeway { throw Self.invalid("The token is not valid yet.") }
        guard let sub = claims.sub, !sub.isEmpty, sub.utf8.count <= 256 else { throw Self.invalid("The token names no subject.") }
        let audiences = Set(claims.aud?.value ?? [])
        switch claims.tokenUse {
        case nil, "id", "access": break
        default: throw Self.invalid("The token is neither an ID token nor an access token.")
        }
        let audienceAllowed =
            !audiences.isDisjoint(with: allowedAudiences)
            // An ID token's audience is its app client (only Cognito says `token_use`; other providers' ID tokens say nothing).
            || ((claims.tokenUse ?? "id") == "id" && !audiences.isDisjoint(with: allowedClients))
        let clientAllowed = claims.clientID.map(allowedClients.contains) ?? false
        guard audienceAllowed || clientAllowed else { throw Self.invalid("The token was issued for another application.") }
        return Date(timeIntervalSince1970: exp + leeway)
    }

    private func remember(_ token: String, as subject: Subject, until: Date) {
        let now = clock.now()
        verified.withLock { cache in
            if cache.count >= Self.maxCachedTokens {
                cache = cache.filter { $0.value.until > now }
                if cache.count >= Self.maxCachedTokens { cache.removeAll() }
            }
            cache[Self.cacheKey(token)] = (subject, until)
        }
    }

    static func cacheKey(_ token: String) -> SHA256.Digest {
        var token = token
        return token.withUTF8 { SHA256.hash(data: $0) }
    }

    struct Header: Decodable {
        var alg: String?
        var kid: String?
    }

    static func header(of token: String) throws(KaiwaError) -> Header {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Base64URL.decode(String(parts[0])), let header = try? JSONDecoder().decode(Header.self, from: data)
        else { throw invalid("The token is not a JWT.") }
        return header
    }

    static func invalid(_ reason: String) -> KaiwaError {
        KaiwaError(.unauthorized, reason)
    }
}

/// base64url without padding (RFC 4648 §5), as JWTs and Kaiwa's keys and tickets use it.
enum Base64URL {
    static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !base64.contains("=") else { return nil }
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

extension Collection<UInt8> {
    /// Lower-case hex, two digits a byte.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: count * 2) { buffer in
            var index = 0
            for byte in self {
                buffer[index] = digits[Int(byte >> 4)]
                buffer[index + 1] = digits[Int(byte & 0x0F)]
                index += 2
            }
            return index
        }
    }
}

extension SHA256.Digest {
    var hexString: String { Array(self).hexString }
}
