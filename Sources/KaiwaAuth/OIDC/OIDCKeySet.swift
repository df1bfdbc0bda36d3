import Foundation
import JWTKit
import KaiwaCore
import Logging

/// What the page and the verifier need from an OIDC discovery document
/// (`/.well-known/openid-configuration`).
public struct OIDCDiscovery: Sendable, Hashable, Codable {
    public var issuer: String
    public var jwksURI: String
    public var authorizationEndpoint: String?
    public var tokenEndpoint: String?
    public var endSessionEndpoint: String?

    enum CodingKeys: String, CodingKey {
        case issuer
        case jwksURI = "jwks_uri"
        case authorizationEndpoint = "authorization_endpoint"
        case tokenEndpoint = "token_endpoint"
        case endSessionEndpoint = "end_session_endpoint"
    }

    /// Where the page signs out: the document's `end_session_endpoint`, or Cognito's hosted UI
    /// `/logout` beside its `/oauth2/authorize` (Cognito's document names none).
    public var logoutEndpoint: String? {
        if let endSessionEndpoint { return endSessionEndpoint }
        guard let authorize = authorizationEndpoint, var parts = URLComponents(string: authorize),
            parts.path.hasSuffix("/oauth2/authorize")
        else { return nil }
        parts.path = String(parts.path.dropLast("/oauth2/authorize".count)) + "/logout"
        parts.query = nil
        return parts.string
    }
}

/// The provider's signing keys: fetched at start, kept, and fetched again when a token names
/// a key id that is not known (key rotation), at most once per `refreshInterval`.
public actor OIDCKeySet {
    /// A key the provider publishes, with the one algorithm tokens signed by it may use.
    struct Key {
        var algorithm: String
        var collection: JWTKeyCollection
    }

    public let discoveryURL: URL
    public private(set) var discovery: OIDCDiscovery?
    private var keys: [String: Key] = [:]
    private var lastFetch: Date?
    private var refresh: Task<Void, any Error>?
    private let fetcher: any DocumentFetcher
    private let clock: any WallClock
    private let refreshInterval: TimeInterval
    private let logger: Logger

    public init(
        discoveryURL: URL, fetcher: any DocumentFetcher, clock: any WallClock = SystemWallClock(), refreshInterval: TimeInterval = 60,
        logger: Logger = Logger(label: "kaiwa.auth")
    ) {
        self.discoveryURL = discoveryURL
        self.fetcher = fetcher
        self.clock = clock
        self.refreshInterval = refreshInterval
        self.logger = logger
    }

    /// Fetches the discovery document and the keys; throws when either cannot be used.
    public func load() async throws {
        let data = try await fetcher.fetch(discoveryURL)
        let document: OIDCDiscovery
        do {
            document = try JSONDecoder().decode(OIDCDiscovery.self, from: data)
        } catch {
            throw OIDCError("\(discoveryURL.absoluteString) is not an OIDC discovery document.")
        }
        guard let jwksURL = URL(string: document.jwksURI), Self.isAllowedURL(jwksURL) else {
            throw OIDCError("The discovery document's jwks_uri must be an https URL (or http on a loopback address).")
        }
        discovery = document
        try await fetchKeys(from: jwksURL)
    }

    /// The key with this id, fetching the keys again if it is unknown and they were not fetched
    /// within the refresh interval.
    func key(id: String) async -> Key? {
        if let key = keys[id] { return key }
        if let refresh {
            // Another request is fetching the keys already: its answer is this one's too.
            _ = try? await refresh.value
            return keys[id]
        }
        let now = clock.now()
        if let lastFetch, now.timeIntervalSince(lastFetch) < refreshInterval { return nil }
        lastFetch = now
        let task = Task { try await self.refetch() }
        refresh = task
        do {
            try await task.value
        } catch {
            logger.warning("Could not fetch the OIDC provider's keys again", metadata: ["error": "\(error)"])
        }
        refresh = nil
        return keys[id]
    }

    private func refetch() async throws {
        if discovery == nil {
            try await load()
        } else if let discovery, let url = URL(string: discovery.jwksURI) {
            try await fetchKeys(from: url)
        }
    }

    private func fetchKeys(from url: URL) async throws {
        let data = try await fetcher.fetch(url)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let entries = object["keys"] as? [Any] else {
            throw OIDCError("\(url.absoluteString) is not a JSON Web Key Set.")
        }
        var loaded: [String: Key] = [:]
        for entry in entries {
            // Each key on its own: a key of a kind jwt-kit does not know (encryption keys) is skipped.
            // A key is an object; anything else would make JSONSerialization trap.
            guard let object = entry as? [String: Any], let json = try? JSONSerialization.data(withJSONObject: object), var jwk = try? JSONDecoder().decode(JWK.self, from: json),
                let id = jwk.keyIdentifier?.string, let algorithm = Self.algorithm(of: jwk)
            else { continue }
            jwk.algorithm = JWK.Algorithm(rawValue: algorithm)
            do {
                let collection = JWTKeyCollection()
                try await collection.add(jwk: jwk)
                loaded[id] = Key(algorithm: algorithm, collection: collection)
            } catch {
                logger.warning("Skipped an unusable key of the OIDC provider", metadata: ["kid": "\(id)"])
            }
        }
        keys = loaded
        lastFetch = clock.now()
        logger.info("Loaded the OIDC provider's keys", metadata: ["keys": "\(loaded.count)", "url": "\(url.absoluteString)"])
    }

    /// RS256 for RSA keys and ES256 for P-256 keys; `nil` (the key is ignored) for any other
    /// key or a key that declares another algorithm.
    static func algorithm(of jwk: JWK) -> String? {
        let declared = jwk.algorithm?.rawValue
        switch jwk.keyType {
        case .rsa where declared == nil || declared == "RS256": return "RS256"
        case .ecdsa where jwk.curve?.rawValue == "P-256" && (declared == nil || declared == "ES256"): return "ES256"
        default: return nil
        }
    }

    /// https anywhere; http only on a loopback address (a provider started by tests).
    public static func isAllowedURL(_ url: URL) -> Bool {
        switch url.scheme?.lowercased() {
        case "https": return url.host != nil
        case "http": return ["127.0.0.1", "localhost", "::1", "[::1]"].contains(url.host?.lowercased() ?? "")
        default: return false
        }
    }
}
