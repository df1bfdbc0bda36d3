// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "kaiwa",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kaiwa", targets: ["kaiwa"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // OTLP over HTTP only: the gRPC exporter would add grpc-swift to every build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: ["JSON"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.30.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
    ],
    targets: [
        /// Messages, content blocks, chat events, errors and the seams (model provider, clock).
        .target(
            name: "KaiwaCore",
            swiftSettings: swiftSettings
        ),
        /// Where conversations live: the ChatStore protocol, SQLite and in-memory stores, retention.
        .target(
            name: "KaiwaStore",
            dependencies: [
                "KaiwaCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Model providers: the offline `rules` model, OpenAI-compatible servers and Bedrock.
        .target(
            name: "KaiwaModels",
            dependencies: [
                "KaiwaCore",
                "KaiwaAWS",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        /// AWS support written here (no AWS SDK for Swift is available): SigV4 signing,
        /// the event-stream format, and later credentials and small service clients.
        .target(
            name: "KaiwaAWS",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The DynamoDB `ChatStore`, for many instances sharing one history (seed 002).
        .target(
            name: "KaiwaDynamoDBStore",
            dependencies: ["KaiwaCore", "KaiwaStore", "KaiwaAWS"],
            swiftSettings: swiftSettings
        ),
        /// Tools agents can use: connpass search (and MCP servers' tools).
        .target(
            name: "KaiwaTools",
            dependencies: [
                "KaiwaCore",
                "KaiwaAWS",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Who is calling: JWT (OIDC, Cognito) verification, API keys, WebSocket tickets, rate limits.
        .target(
            name: "KaiwaAuth",
            dependencies: [
                "KaiwaCore",
                "KaiwaStore",
                "KaiwaAgent",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Turns a user message into a stream of chat events: sessions, history, the model call.
        .target(
            name: "KaiwaAgent",
            dependencies: [
                "KaiwaCore",
                "KaiwaStore",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        /// HTTP: routes, middleware, error mapping, configuration and application assembly.
        .target(
            name: "KaiwaServer",
            dependencies: [
                "KaiwaCore",
                "KaiwaStore",
                "KaiwaModels",
                "KaiwaAgent",
                "KaiwaAuth",
                "KaiwaAWS",
                "KaiwaDynamoDBStore",
                "KaiwaTools",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The command line: `kaiwa serve`, `kaiwa store`, `kaiwa keys` and the terminal client `kaiwa chat`.
        .executableTarget(
            name: "kaiwa",
            dependencies: [
                "KaiwaServer",
                "KaiwaDynamoDBStore",
                "KaiwaAWS",
                "KaiwaAuth",
                "KaiwaStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The server with a paced model, for `bench/streams.py`.
        .executableTarget(
            name: "kaiwa-paced-server",
            dependencies: ["KaiwaServer", "KaiwaCore", "KaiwaStore", .product(name: "Hummingbird", package: "hummingbird")],
            path: "bench/PacedServer",
            swiftSettings: swiftSettings
        ),
        /// A fake OpenAI-compatible upstream that answers at once, for `bench/upstream.sh` and `bench/gateway.sh`.
        .executableTarget(
            name: "kaiwa-fake-openai",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "bench/FakeOpenAI",
            swiftSettings: swiftSettings
        ),
        /// A small MCP server over stdio that the tests start: tools `add` and `crash`.
        .executableTarget(
            name: "kaiwa-test-mcp-server",
            dependencies: [.product(name: "MCP", package: "swift-sdk")],
            path: "Tests/MCPTestServer"
        ),
        .testTarget(
            name: "KaiwaTests",
            dependencies: [
                "KaiwaCore",
                "KaiwaStore",
                "KaiwaModels",
                "KaiwaAgent",
                "KaiwaAuth",
                "KaiwaServer",
                "KaiwaAWS",
                "KaiwaDynamoDBStore",
                "KaiwaTools",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
    ]
)
