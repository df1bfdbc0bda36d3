import AsyncHTTPClient
import Foundation
import KaiwaAgent
import KaiwaAuth
import KaiwaCore
import KaiwaStore
import Logging

/// Authentication and limits, made from the configuration: who may call, and how much.
struct AccessControl {
    let authenticator: Authenticator
    let limiter: UsageLimiter

    /// Fails start-up when the configuration cannot be served safely: no authentication on a
    /// public address (unless `auth.allow.anonymous`), an OIDC provider whose documents cannot
    /// be fetched, or an unreadable limits file.
    static func make(
        _ configuration: KaiwaConfiguration, store: any ChatStore, clock: any WallClock, fetcher: (any DocumentFetcher)?, logger: Logger
    ) async throws -> AccessControl {
        let settings = configuration.auth
        if settings.mode.isOff && !LoopbackHost.contains(configuration.host) {
            guard settings.allowAnonymous else {
                throw ConfigurationError(
                    key: "auth.mode",
                    problem: "is none, and host \(configuration.host) is not a loopback address: anyone who reaches it could read every conversation. Turn on jwt or api-key, or set auth.allow.anonymous=true."
                )
            }
            logger.warning("Authentication is off on a non-loopback address: anyone who can reach it is the one local user", metadata: ["host": "\(configuration.host)"])
        }
        var jwt: JWTVerifier?
        if settings.mode.jwt, let url = settings.discoveryURL {
            let keys = OIDCKeySet(discoveryURL: url, fetcher: fetcher ?? HTTPDocumentFetcher(client: .shared), clock: clock, logger: logger)
            do {
                try await keys.load()
            } catch {
                throw ConfigurationError(key: "auth.jwt.discovery.url", problem: "could not be used: \(error)")
            }
            jwt = JWTVerifier(keys: keys, allowedAudiences: Set(settings.allowedAudiences), allowedClients: Set(settings.allowedClients), clock: clock)
        }
        let catalog: LimitsCatalog
        do {
            catalog = try settings.limitsPath.map { try LimitsCatalog.load(path: $0, defaults: settings.limits) } ?? LimitsCatalog(defaults: settings.limits)
        } catch {
            throw ConfigurationError(key: "limits.path", problem: "\(error)")
        }
        let authenticator = Authenticator(
            mode: settings.mode, jwt: jwt, apiKeys: settings.mode.apiKey ? APIKeys(store: store, clock: clock) : nil,
            tickets: WebSocketTickets(store: store, clock: clock), store: store, clock: clock, failuresPerMinute: settings.failuresPerMinute,
            logger: logger
        )
        let limiter = UsageLimiter(catalog: catalog, store: store, clock: clock, slotLease: configuration.replySettings.maxReplyTime.seconds + 30, logger: logger)
        return AccessControl(authenticator: authenticator, limiter: limiter)
    }
}
