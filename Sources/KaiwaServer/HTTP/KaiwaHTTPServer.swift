import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

extension HTTPServerBuilder {
    /// Hummingbird's HTTP/1 server with WebSocket upgrades, plus what Kaiwa adds to every
    /// connection: at most `maxConnections` open at once (the next ones are closed as they
    /// come, with a log line), and `RequestHeadGuard` (a head that cannot be parsed is answered
    /// 400, a first head that has not arrived within `headTimeout` closes the connection).
    static func kaiwa<Builder: HTTPResponderBuilder & _HB_SendableMetatype>(
        webSocketRouter: Builder,
        configuration: HTTP1WebSocketUpgradeChannel.Configuration,
        headTimeout: TimeAmount,
        maxConnections: Int
    ) -> HTTPServerBuilder where Builder.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        let connections = OpenConnections(limit: maxConnections)
        return .init { responder in
            GuardedChildChannel(
                base: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: configuration),
                headTimeout: headTimeout,
                connections: connections
            )
        }
    }
}

/// The server's open connections, counted against a bound.
final class OpenConnections: Sendable {
    let limit: Int
    private let count = Atomic(0)
    private let lastRefusalLogged = Mutex<ContinuousClock.Instant?>(nil)

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts a new connection; `false` (and not counted) when `limit` are open already.
    func open() -> Bool {
        let now = count.wrappingAdd(1, ordering: .relaxed).newValue
        guard now > limit else { return true }
        count.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    func close() {
        count.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Whether to log a refusal now: at most once a second, so that a flood does not flood the log too.
    func shouldLogRefusal() -> Bool {
        lastRefusalLogged.withLock { last in
            let now = ContinuousClock.now
            if let last, now - last < .seconds(1) { return false }
            last = now
            return true
        }
    }
}

/// A server child channel counted against the open-connection bound, with `RequestHeadGuard`
/// at the end of its pipeline.
struct GuardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    let base: Base
    let headTimeout: TimeAmount
    let connections: OpenConnections

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Base.Value> {
        if connections.open() {
            channel.closeFuture.whenComplete { [connections] _ in connections.close() }
        } else {
            if connections.shouldLogRefusal() {
                logger.warning(
                    "Refusing new connections: \(connections.limit) are open, the most http.max.connections allows",
                    metadata: ["limit": "\(connections.limit)"]
                )
            }
            channel.close(promise: nil)
        }
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            try channel.pipeline.syncOperations.addHandler(RequestHeadGuard(logger: logger, headTimeout: headTimeout))
            return value
        }
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
