import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import KaiwaAWS
import KaiwaAgent
import KaiwaAuth
import KaiwaCore
import KaiwaModels
import KaiwaStore
import KaiwaTools
import Logging
import Prometheus
import ServiceLifecycle

/// What the application is built from. Tests pass their own (an in-memory store, a scripted
/// model, a clock they move); the command line makes them from configuration.
public struct AppDependencies: Sendable {
    public var store: any ChatStore
    /// The models agents and requests name, and the default.
    public var models: ModelCatalog
    /// Tools agents may use, by name.
    public var tools: [String: any Tool]
    public var agents: AgentCatalog
    public var clock: any WallClock
    /// Long-lived helpers (an HTTP client) that run, and shut down, with the server.
    public var services: [any Service]
    /// Fetches the OIDC provider's documents (`auth.mode` with `jwt`); AsyncHTTPClient's shared client when `nil`.
    public var documentFetcher: (any DocumentFetcher)?
    /// The API Gateway Management API client for an endpoint, for `apigw.websocket.path`.
    public var webSocketManagement: (@Sendable (_ endpoint: String) -> APIGatewayManagementClient)?

    public init(
        store: any ChatStore, models: ModelCatalog, tools: [String: any Tool] = [:], agents: AgentCatalog = .standard,
        clock: any WallClock = SystemWallClock(), services: [any Service] = [], documentFetcher: (any DocumentFetcher)? = nil
    ) {
        self.documentFetcher = documentFetcher
        self.store = store
        self.models = models
        self.tools = tools
        self.agents = agents
        self.clock = clock
        self.services = services
    }

    /// Dependencies whose only model is `model`.
    public init(
        store: any ChatStore, model: any ModelProvider, tools: [String: any Tool] = [:], agents: AgentCatalog = .standard,
        clock: any WallClock = SystemWallClock(), services: [any Service] = [], documentFetcher: (any DocumentFetcher)? = nil
    ) {
        self.init(
            store: store, models: .single(model), tools: tools, agents: agents, clock: clock, services: services,
            documentFetcher: documentFetcher
        )
    }

    /// The store, models, tools and agents the configuration names. Fails with a message
    /// naming the problem (an unreadable rules or agents file, an unopenable database, …).
    public static func make(
        from configuration: KaiwaConfiguration,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "kaiwa")
    ) async throws -> AppDependencies {
        let client = HTTPClientService.makeClient(connectTimeout: configuration.upstreamSettings.connectTimeout)
        do {
            return try await make(from: configuration, environment: environment, client: client, logger: logger)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private static func make(
        from configuration: KaiwaConfiguration, environment: [String: String], client: HTTPClient, logger: Logger
    ) async throws -> AppDependencies {
        let region = StoreFactory.awsRegion(environment)
        let credentials = AWSCredentialChain.standard(environment: environment, client: client)
        var modelSpecs: [ModelSpec]
        let defaultModel: String
        if let path = configuration.modelsPath {
            (modelSpecs, defaultModel) = try ModelCatalogFile.load(path: path)
        } else {
            _ = try configuration.modelChoice
            (modelSpecs, defaultModel) = ([ModelSpec(spelling: configuration.model)!], configuration.model)
        }
        if configuration.modelsPath != nil, configuration.model != KaiwaConfiguration().model {
            logger.notice("`model` is not used: the model catalogue (models.path) names the models", metadata: ["model": "\(configuration.model)"])
        }
        let store = try await StoreFactory.makeStore(configuration, environment: environment, credentials: credentials, client: client)

        let secrets = SecretsManagerClient(
            endpoint: AWSEndpoint.url(service: "secrets manager", hostPrefix: "secretsmanager", region: region, environment: environment),
            region: region, credentials: credentials, client: client
        )
        var tools: [String: any Tool] = [
            "search_connpass": ConnpassSearchTool(
                baseURL: configuration.connpassBaseURL,
                keys: ConnpassKeySource(configured: configuration.connpassAPIKey, secrets: secrets, secretID: configuration.connpassSecretID),
                client: client
            )
        ]
        var services: [any Service] = [HTTPClientService(client: client)]
        var mcpServerNames: [String] = []
        if let path = configuration.mcpConfigPath {
            let configs = try MCPServerConfig.load(path: path)
            mcpServerNames = configs.map(\.name)
            let mcp = await MCPServers.connect(configs, logger: logger)
            for tool in mcp.tools { tools[tool.spec.name] = tool }
            services.append(mcp)
        }
        var agents =
            try configuration.agentsPath.map {
                try AgentCatalogFile.load(
                    path: $0, knownTools: Set(tools.keys), mcpServers: mcpServerNames,
                    catalogModels: configuration.modelsPath == nil ? nil : Set(modelSpecs.map(\.name)), logger: logger
                )
            } ?? .standard
        if let name = configuration.defaultAgent {
            guard let chosen = agents.withDefault(name) else {
                throw ConfigurationError(
                    key: "agent.default",
                    problem: "is \"\(name)\", which is not an agent here (known: \(agents.profiles.map(\.name).joined(separator: ", ")))."
                )
            }
            agents = chosen
        }
        if configuration.modelsPath == nil {
            // Without a catalogue file, the models agents name the short way join the catalogue.
            for name in agents.profiles.flatMap({ ($0.model.map { [$0] } ?? []) + ($0.models ?? []) })
            where !modelSpecs.contains(where: { $0.name == name }) {
                modelSpecs.append(ModelSpec(spelling: name)!)
            }
        }
        let factory = ModelFactory(configuration: configuration, environment: environment, credentials: credentials, client: client, logger: logger)
        var dependencies = AppDependencies(
            store: store, models: try factory.catalog(modelSpecs, defaultName: defaultModel), tools: tools, agents: agents,
            services: services, documentFetcher: HTTPDocumentFetcher(client: client)
        )
        dependencies.webSocketManagement = { endpoint in
            APIGatewayManagementClient(endpoint: endpoint, region: region, credentials: credentials, client: client)
        }
        return dependencies
    }
}

extension AppDependencies {
    /// Shuts down the HTTP clients of `services`, for an application that will not run.
    func shutDownHTTPClients() async {
        for case let service as HTTPClientService in services {
            try? await service.client.shutdown()
        }
    }
}

/// Owns the HTTP client that model providers use, and shuts it down with the server.
struct HTTPClientService: Service {
    let client: HTTPClient

    /// Upstream connections kept per model server (more are opened when needed, and closed
    /// when idle): enough for every concurrent reply of a busy instance to have its own.
    static let connectionsPerHost = 512

    static func makeClient(connectTimeout: Duration) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .milliseconds(Int64(connectTimeout.seconds * 1000))
        // AsyncHTTPClient opens 8 connections to a host by default and queues the ninth
        // concurrent call behind them: 64 users talking to one model server waited in line.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = Self.connectionsPerHost
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}

/// Builds the Kaiwa application: routes, middleware and background services.
public func buildApplication(
    _ configuration: KaiwaConfiguration,
    dependencies given: AppDependencies? = nil,
    logger: Logger = Logger(label: "kaiwa")
) async throws -> some ApplicationProtocol {
    let dependencies: AppDependencies
    if let given {
        dependencies = given
    } else {
        dependencies = try await AppDependencies.make(from: configuration, logger: logger)
    }
    let (router, runner): (Router<KaiwaRequestContext>, ReplyRunner)
    do {
        (router, runner) = try await buildRouter(configuration, dependencies: dependencies, logger: logger)
    } catch {
        // The server will not run: what it opened for itself must be closed (an HTTP client traps if it is not).
        if given == nil { await dependencies.shutDownHTTPClients() }
        throw error
    }
    let store = dependencies.store

    var app = Application(
        router: router,
        server: .kaiwa(
            webSocketRouter: router,
            configuration: .init(
                http1: .init(idleTimeout: .seconds(Int64(configuration.httpIdleTimeoutSeconds))),
                ws: .init(maxFrameSize: configuration.webSocketMaxFrameBytes * 4)
            ),
            headTimeout: .seconds(Int64(configuration.httpIdleTimeoutSeconds)),
            maxConnections: configuration.httpMaxConnections
        ),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "kaiwa"),
        onServerRunning: { [lambda = configuration.lambdaFunctionName] _ in StartupTime.reportReady(lambdaFunction: lambda, logger: logger) },
        logger: logger
    )
    app.addServices(dependencies.services)
    if let sqlite = store as? SQLiteChatStore { app.addServices(SQLiteSearchIndexer(store: sqlite, logger: logger)) }
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

/// The router: middleware, then every route. Its runner runs the replies and must run as a
/// service of the application.
func buildRouter(
    _ configuration: KaiwaConfiguration, dependencies: AppDependencies, logger: Logger
) async throws -> (Router<KaiwaRequestContext>, ReplyRunner) {
    let store = dependencies.store
    let registry = configuration.metricsEnabled ? PrometheusCollectorRegistry() : nil
    let metrics = registry.map { registry in
        var factory = PrometheusMetricsFactory(registry: registry)
        // From a fast request to a long reply (replies may run minutes).
        factory.defaultDurationHistogramBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300].map {
            Duration.milliseconds(Int64($0 * 1000))
        }
        return KaiwaMetrics(factory: factory)
    } ?? .off
    let chat = ChatService(
        store: store,
        models: dependencies.models,
        tools: dependencies.tools,
        agents: dependencies.agents,
        settings: configuration.chatSettings,
        clock: dependencies.clock,
        metrics: metrics,
        logger: logger
    )
    let access = try await AccessControl.make(
        configuration, store: store, clock: dependencies.clock, fetcher: dependencies.documentFetcher, logger: logger
    )
    let runner = ReplyRunner(chat: chat, settings: configuration.replySettings, gate: access.limiter, logger: logger)

    let router = Router(context: KaiwaRequestContext.self)
    // A span per request, continuing a caller's W3C `traceparent`; the reply's spans nest under it.
    if configuration.tracingEnabled { router.add(middleware: TracingMiddleware()) }
    router.add(middleware: RequestLogMiddleware(metrics: metrics))
    router.add(middleware: BrowserGuardMiddleware(listenHost: configuration.host, extraHosts: configuration.auth.allowedHosts))
    router.add(middleware: CrossOriginMiddleware(policy: CORSPolicy(allowedOrigins: configuration.corsAllowedOrigins)))
    router.add(middleware: ErrorResponseMiddleware())
    router.add(
        middleware: AuthMiddleware(
            authenticator: access.authenticator, limiter: access.limiter,
            clientAddressHeader: configuration.auth.clientAddressHeader.flatMap { HTTPField.Name($0) },
            passThroughPath: configuration.apiGatewayWebSocketPath
        )
    )
    if let registry { MetricsRoutes(registry: registry, token: configuration.metricsToken).add(to: router) }
    AuthRoutes(authenticator: access.authenticator, limiter: access.limiter, settings: configuration.auth).add(to: router)
    HealthRoutes(store: store, models: dependencies.models, activity: chat.activity).add(to: router)
    ChatRoutes(runner: runner, maxBodyBytes: configuration.maxBodyBytes).add(to: router)
    InvocationRoutes(runner: runner, maxBodyBytes: configuration.maxBodyBytes).add(to: router)
    ReplyControlRoutes(runner: runner, store: store).add(to: router)
    OpenAIRoutes(chat: chat, gate: access.limiter, maxBodyBytes: configuration.maxBodyBytes).add(to: router)
    SessionRoutes(runner: runner).add(to: router)
    BranchRoutes(runner: runner, maxBodyBytes: configuration.maxBodyBytes).add(to: router)
    AttachmentRoutes(store: store, settings: chat.settings, clock: chat.clock).add(to: router)
    AgentRoutes(agents: dependencies.agents, models: dependencies.models).add(to: router)
    WebRoutes(assets: WebAssets.locate(configuredRoot: configuration.webRoot, logger: logger)).add(to: router)
    if let path = configuration.apiGatewayWebSocketPath {
        guard let management = dependencies.webSocketManagement else {
            throw ConfigurationError(key: "apigw.websocket.path", problem: "is set, but this server has no API Gateway Management API client")
        }
        APIGatewayWebSocketRoutes(
            path: path, runner: runner, tickets: access.authenticator.tickets, management: management,
            managementEndpoint: configuration.apiGatewayManagementEndpoint,
            requiresSignIn: configuration.auth.mode != .none, connectionTTL: .seconds(configuration.webSocketConnectionTTLSeconds),
            logger: logger
        ).add(to: router)
    }
    let conversation = WebSocketConversation(
        runner: runner, store: store, clock: dependencies.clock, maxFrameBytes: configuration.webSocketMaxFrameBytes,
        connectionTTL: .seconds(configuration.webSocketConnectionTTLSeconds), limiter: access.limiter, logger: logger
    )
    router.ws("/ws") { inbound, outbound, context in
        await conversation.run(inbound: inbound, outbound: outbound, subject: context.requestContext.subject)
    }
    return (router, runner)
}
