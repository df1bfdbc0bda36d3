import Hummingbird
import HummingbirdWebSocket
import KaiwaAgent
import KaiwaCore
import KaiwaModels
import KaiwaStore
import Logging

/// What the application is built from. Tests pass their own (an in-memory store, a scripted
/// model, a clock they move); the command line makes them from configuration.
public struct AppDependencies: Sendable {
    public var store: any ChatStore
    public var model: any ModelProvider
    public var clock: any WallClock

    public init(store: any ChatStore, model: any ModelProvider, clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.model = model
        self.clock = clock
    }

    /// The store and model the configuration names. Fails with a message naming the problem
    /// (an unreadable rules file, an unopenable database).
    public static func make(from configuration: KaiwaConfiguration) throws -> AppDependencies {
        let store: any ChatStore =
            switch configuration.store {
            case .sqlite: try SQLiteChatStore(path: configuration.sqlitePath)
            case .memory: InMemoryChatStore()
            }
        let book = try configuration.rulesPath.map { path throws(RuleBookError) in try RuleBook.load(path: path) } ?? .bundled
        return AppDependencies(store: store, model: RulesModel(book: book))
    }
}

/// Builds the Kaiwa application: routes, middleware and background services.
public func buildApplication(
    _ configuration: KaiwaConfiguration,
    dependencies: AppDependencies? = nil,
    logger: Logger = Logger(label: "kaiwa")
) throws -> some ApplicationProtocol {
    let dependencies = try dependencies ?? AppDependencies.make(from: configuration)
    let store = dependencies.store
    let chat = ChatService(
        store: store,
        model: dependencies.model,
        settings: configuration.chatSettings,
        clock: dependencies.clock,
        logger: logger
    )
    let runner = ReplyRunner(chat: chat, settings: configuration.replySettings, logger: logger)

    let router = Router(context: KaiwaRequestContext.self)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: CrossOriginMiddleware(policy: CORSPolicy(allowedOrigins: configuration.corsAllowedOrigins)))
    router.add(middleware: ErrorResponseMiddleware())
    HealthRoutes(store: store, modelID: dependencies.model.modelID, activity: chat.activity).add(to: router)
    ChatRoutes(runner: runner, maxBodyBytes: configuration.maxBodyBytes).add(to: router)
    InvocationRoutes(runner: runner, maxBodyBytes: configuration.maxBodyBytes).add(to: router)
    ReplyControlRoutes(runner: runner, store: store).add(to: router)
    SessionRoutes(store: store).add(to: router)
    WebRoutes(assets: WebAssets.locate(configuredRoot: configuration.webRoot, logger: logger)).add(to: router)
    let conversation = WebSocketConversation(
        runner: runner, store: store, clock: dependencies.clock, maxFrameBytes: configuration.webSocketMaxFrameBytes,
        connectionTTL: .seconds(configuration.webSocketConnectionTTLSeconds), logger: logger
    )
    router.ws("/ws") { inbound, outbound, _ in
        await conversation.run(inbound: inbound, outbound: outbound)
    }

    var app = Application(
        router: router,
        server: .http1WebSocketUpgrade(
            webSocketRouter: router,
            configuration: .init(maxFrameSize: configuration.webSocketMaxFrameBytes * 4)
        ),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "kaiwa"),
        logger: logger
    )
    app.addServices(
        runner,
        RetentionSweeper(
            store: store,
            retention: .seconds(configuration.sessionRetentionSeconds),
            interval: .seconds(configuration.retentionSweepIntervalSeconds),
            clock: dependencies.clock,
            logger: logger
        )
    )
    return app
}
