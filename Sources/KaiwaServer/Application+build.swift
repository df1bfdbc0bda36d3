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
import ServiceLifecycle

/// What the application is built from. Tests pass their own (an in-memory store, a scripted
/// model, a clock they move); the command line makes them from configuration.
public struct AppDependencies: Sendable {
    public var store: any ChatStore
    /// The model of agents that name none.
    public var model: any ModelProvider
    /// Models agents name, by name.
    public var models: [String: any ModelProvider]
    /// Tools agents may use, by name.
    public var tools: [String: any Tool]
    public var agents: AgentCatalog
    public var clock: any WallClock
    /// Long-lived helpers (an HTTP client) that run, and shut down, with the server.
    public var services: [any Service]
    /// Fetches the OIDC provider's documents (`auth.mode` with `jwt`); AsyncHTTPClient's shared client when `nil`.
    public var documentFetcher: (any DocumentFetcher)?

    public init(
        store: any ChatStore, model: any ModelProvider, models: [String: any ModelProvider] = [:], tools: [String: any Tool] = [:],
        agents: AgentCatalog = .standard, clock: any WallClock = SystemWallClock(), services: [any Service] = [],
        documentFetcher: (any DocumentFetcher)? = nil
    ) {
        self.documentFetcher = documentFetcher
        self.store = store
        self.model = model
        self.models = models
        self.tools = tools
        self.agents = agents
        self.clock = clock
        self.services = services
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
        let store = try await StoreFactory.makeStore(configuration, environment: environment, credentials: credentials, client: client)

        func provider(for choice: ModelChoice) throws -> any ModelProvider {
            switch choice {
            case .rules:
                let book = try configuration.rulesPath.map { path throws(RuleBookError) in try RuleBook.load(path: path) } ?? .bundled
                return RulesModel(book: book)
            case .openAI(let model):
                return OpenAIProvider(
                    model: model, baseURL: configuration.openAIBaseURL, apiKey: configuration.openAIAPIKey, client: client,
                    settings: configuration.upstreamSettings, logger: logger
                )
            case .bedrock(let modelID):
                let authorization: BedrockProvider.Authorization =
                    environment["AWS_BEARER_TOKEN_BEDROCK"].flatMap { $0.isEmpty ? nil : .bearer($0) } ?? .sigV4(credentials)
                return BedrockProvider(
                    model: modelID, region: region,
                    endpoint: AWSEndpoint.url(service: "bedrock runtime", hostPrefix: "bedrock-runtime", region: region, environment: environment),
                    authorization: authorization, streaming: configuration.bedrockStreaming, client: client,
                    settings: configuration.upstreamSettings, logger: logger
                )
            }
        }

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
        let agents =
            try configuration.agentsPath.map {
                try AgentCatalogFile.load(path: $0, knownTools: Set(tools.keys), mcpServers: mcpServerNames, logger: logger)
            } ?? .standard
        var models: [String: any ModelProvider] = [:]
        for name in Set(agents.profiles.compactMap(\.model)) where name != configuration.model {
            guard let choice = ModelChoice(parsing: name) else { continue }
            models[name] = try provider(for: choice)
        }
        return AppDependencies(
            store: store, model: try provider(for: try configuration.modelChoice), models: models, tools: tools, agents: agents,
            services: services, documentFetcher: HTTPDocumentFetcher(client: client)
        )
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

    static func makeClient(connectTimeout: Duration) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .milliseconds(Int64(connectTimeout.seconds * 1000))
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
    let store = dependencies.store
    let chat = ChatService(
        store: store,
        model: dependencies.model,
        models: dependencies.models,
        tools: dependencies.tools,
        agents: dependencies.agents,
        settings: configuration.chatSettings,
        clock: dependencies.clock,
        logger: logger
    )
    let access: AccessControl
    do {
        access = try await AccessControl.make(configuration, store: store, clock: dependencies.clock, fetcher: dependencies.documentFetcher, logger: logger)
    } catch {
        // The server will not run: what it opened for itself must be closed (an HTTP client traps if it is not).
        if given == nil { await dependencies.shutDownHTTPClients() }
        throw error
    }
    let runner = ReplyRunner(chat: chat, settings: configuration.replySettings, gate: access.limiter, logger: logger)

    let router = Router(context: KaiwaRequestContext.self)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: BrowserGuardMiddleware(listenHost: configuration.host, extraHosts: configuration.auth.allowedHosts))
    router.add(middleware: CrossOriginMiddleware(policy: CORSPolicy(allowedOrigins: configuration.corsAllowedOrigins)))
    router.add(middleware: ErrorResponseMiddleware())
    router.add(
        middleware: AuthMiddleware(
            authenticator: access.authenticator, limiter: access.limiter,
            clientAddressHeader: configuration.auth.clientAddressHeader.flatMap { HTTPField.Name($0) }
        )
    )
    AuthRoutes(authenticator: access.authenticator, limiter: access.limiter, settings: configuration.auth).add(to: router)
    HealthRoutes(store: store, modelID: dependencies.model.modelID, activity: chat.activity).add(to: router)
    ChatRoutes(runner: runner, maxBodyBytes: configuration.maxBodyBytes).add(to: router)
    InvocationRoutes(runner: runner, maxBodyBytes: configuration.maxBodyBytes).add(to: router)
    ReplyControlRoutes(runner: runner, store: store).add(to: router)
    SessionRoutes(store: store).add(to: router)
    AgentRoutes(agents: dependencies.agents, defaultModel: dependencies.model.modelID).add(to: router)
    WebRoutes(assets: WebAssets.locate(configuredRoot: configuration.webRoot, logger: logger)).add(to: router)
    let conversation = WebSocketConversation(
        runner: runner, store: store, clock: dependencies.clock, maxFrameBytes: configuration.webSocketMaxFrameBytes,
        connectionTTL: .seconds(configuration.webSocketConnectionTTLSeconds), limiter: access.limiter, logger: logger
    )
    router.ws("/ws") { inbound, outbound, context in
        await conversation.run(inbound: inbound, outbound: outbound, subject: context.requestContext.subject)
    }

    var app = Application(
        router: router,
        server: .http1WebSocketUpgrade(
            webSocketRouter: router,
            configuration: .init(ws: .init(maxFrameSize: configuration.webSocketMaxFrameBytes * 4))
        ),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "kaiwa"),
        logger: logger
    )
    app.addServices(dependencies.services)
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
