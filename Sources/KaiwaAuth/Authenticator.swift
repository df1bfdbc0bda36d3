import Foundation
import KaiwaCore
import KaiwaStore
import Logging

/// The credentials a request carries, as the server's middleware found them. Only the
/// authenticator looks inside.
public struct Credentials: Sendable {
    /// The `Authorization` header.
    public var authorization: String?
    /// The `X-API-Key` header.
    public var apiKey: String?
    /// A WebSocket ticket (`/ws?ticket=…`).
    public var ticket: String?
    /// Where the request came from, for limiting failed attempts per address; worked out only
    /// when a credential has to be verified (not for a token verified before).
    public var clientAddress: @Sendable () -> String?

    public init(authorization: String? = nil, apiKey: String? = nil, ticket: String? = nil, clientAddress: @escaping @Sendable () -> String? = { nil }) {
        self.authorization = authorization
        self.apiKey = apiKey
        self.ticket = ticket
        self.clientAddress = clientAddress
    }

    var presentsAny: Bool { authorization != nil || apiKey != nil || ticket != nil }
}

/// Turns a request's credentials into a subject, in the configured mode. Failures are
/// `unauthorized` (401), and after too many from one address, `rate_limited` (429) until the
/// minute is over, whatever is presented (so guessing is slow).
public struct Authenticator: Sendable {
    public let mode: AuthMode
    public let jwt: JWTVerifier?
    public let apiKeys: APIKeys?
    public let tickets: WebSocketTickets
    let store: any ChatStore
    let clock: any WallClock
    /// Failed attempts allowed per client address a minute (`0`: no limit).
    let failuresPerMinute: Int
    let logger: Logger

    public init(
        mode: AuthMode, jwt: JWTVerifier?, apiKeys: APIKeys?, tickets: WebSocketTickets, store: any ChatStore,
        clock: any WallClock = SystemWallClock(), failuresPerMinute: Int = 20, logger: Logger = Logger(label: "kaiwa.auth")
    ) {
        self.mode = mode
        self.jwt = jwt
        self.apiKeys = apiKeys
        self.tickets = tickets
        self.store = store
        self.clock = clock
        self.failuresPerMinute = failuresPerMinute
        self.logger = logger
    }

    /// The caller. Throws `unauthorized` when credentials are missing or wrong.
    public func subject(for credentials: Credentials) async throws -> Subject {
        guard !mode.isOff else { return .local }
        let bearer = Self.bearerToken(credentials.authorization)
        if let token = bearer, mode.jwt, !token.hasPrefix(APIKeys.prefix), let subject = jwt?.cachedSubject(for: token) {
            return subject
        }
        guard credentials.presentsAny else {
            throw KaiwaError(.unauthorized, "Sign in first: send `Authorization: Bearer <token or API key>`\(mode.apiKey ? " or `X-API-Key`" : "").")
        }
        guard failuresPerMinute > 0, let address = credentials.clientAddress() else { return try await verify(credentials, bearer: bearer) }
        let counter = "authfail#\(address)#\(Int(clock.now().timeIntervalSince1970) / 60)"
        let expiry = clock.now().addingTimeInterval(120)
        let failures = try await store.counter(counter, now: clock.now())
        if failures >= failuresPerMinute { throw tooManyFailures() }
        // An address that failed this minute reserves its attempt before trying it, so that a
        // burst of guesses cannot all pass the check above at once; one that never failed pays
        // nothing extra (its first burst is bounded by the failures it then records).
        let reserved = failures > 0
        if reserved, try await store.addToCounter(counter, amount: 1, expiresAt: expiry) > failuresPerMinute {
            throw tooManyFailures()
        }
        do {
            let subject = try await verify(credentials, bearer: bearer)
            if reserved { try await store.addToCounter(counter, amount: -1, expiresAt: expiry) }
            return subject
        } catch let error as KaiwaError where error.code == .unauthorized {
            let total = reserved ? failures + 1 : try await store.addToCounter(counter, amount: 1, expiresAt: expiry)
            if total == failuresPerMinute {
                logger.warning("Too many failed sign-ins; refusing this address for the rest of the minute", metadata: ["client": "\(address)"])
            }
            throw error
        }
    }

    private func verify(_ credentials: Credentials, bearer: String?) async throws -> Subject {
        if let ticket = credentials.ticket {
            return try await tickets.redeem(ticket)
        }
        if let key = credentials.apiKey ?? bearer.flatMap({ $0.hasPrefix(APIKeys.prefix) ? $0 : nil }) {
            guard mode.apiKey, let apiKeys else { throw KaiwaError(.unauthorized, "API keys are not accepted by this server.") }
            return try await apiKeys.verify(key)
        }
        guard let token = bearer else {
            throw KaiwaError(.unauthorized, "The Authorization header must be `Bearer <token>`.")
        }
        guard mode.jwt, let jwt else { throw KaiwaError(.unauthorized, "The API key is not valid.") }
        return try await jwt.verify(token)
    }

    private func tooManyFailures() -> KaiwaError {
        let now = clock.now().timeIntervalSince1970
        let wait = max(1, 60 - Int(now) % 60)
        return KaiwaError(.rateLimited, "Too many failed sign-ins from your address. Try again in \(wait) s.", retryAfterSeconds: wait)
    }

    /// The token of `Bearer <token>` (scheme case-insensitive), `nil` for anything else.
    /// Worked on as UTF-8: this runs for every request.
    static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let bytes = header.utf8
        guard bytes.count > 7, zip(bytes.prefix(7), "bearer ".utf8).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        var token = bytes.dropFirst(7)
        while token.first == UInt8(ascii: " ") || token.first == UInt8(ascii: "\t") { token = token.dropFirst() }
        while token.last == UInt8(ascii: " ") || token.last == UInt8(ascii: "\t") { token = token.dropLast() }
        return token.isEmpty ? nil : String(decoding: token, as: UTF8.self)
    }
}
