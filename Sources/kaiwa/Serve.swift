import ArgumentParser
import Foundation
import Hummingbird
import KaiwaServer
import Logging
import ServiceLifecycle
import UnixSignals

/// `kaiwa serve`: runs the HTTP server until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the chat server.",
        discussion: "Every option can also be set as a KAIWA_* environment variable or in the JSON config file; see README."
    )

    @Option(help: "Address to listen on (KAIWA_HOST). Default 127.0.0.1.")
    var host: String?

    @Option(help: "Port to listen on (KAIWA_PORT). Default 8080.")
    var port: Int?

    @Option(help: "JSON config file (KAIWA_CONFIG_FILE).")
    var config: String?

    @Option(help: "Store: sqlite, dynamodb or memory (KAIWA_STORE). Default sqlite.")
    var store: String?

    @Option(help: "SQLite database file (KAIWA_SQLITE_PATH). Default ./kaiwa.sqlite.")
    var sqlitePath: String?

    @Option(help: "Model: rules, openai:<model> or bedrock:<model id> (KAIWA_MODEL). Default rules.")
    var model: String?

    @Option(help: "Rules file for the rules model (KAIWA_RULES_PATH). Default: the bundled rules.")
    var rulesPath: String?

    @Option(help: "Log format: text or json (KAIWA_LOG_FORMAT).")
    var logFormat: String?

    @Option(help: "Log level (KAIWA_LOG_LEVEL). Default info.")
    var logLevel: String?

    func run() async throws {
        let flags = [
            "host": host, "port": port.map(String.init), "store": store, "sqlite.path": sqlitePath, "model": model,
            "rules.path": rulesPath, "log.format": logFormat, "log.level": logLevel,
        ].compactMapValues { $0 }
        let configuration = try await loadConfiguration(flags: flags, configFile: config)
        let environment = ProcessInfo.processInfo.environment
        LoggingSystem.bootstrap(
            { label, metadataProvider in
                var handler: any LogHandler
                if configuration.logFormat == .json {
                    var json = JSONLogHandler(label: label)
                    json.metadataProvider = metadataProvider
                    handler = json
                } else {
                    handler = StreamLogHandler.standardOutput(label: label, metadataProvider: metadataProvider)
                }
                handler.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
                return handler
            },
            metadataProvider: configuration.tracingEnabled ? TracingBackend.logMetadata : nil
        )
        let logger = Logger(label: "kaiwa")
        let app: any ApplicationProtocol
        let tracing: (any Service)?
        do {
            tracing = try TracingBackend.bootstrap(configuration, environment: environment)
            app = try await buildApplication(configuration, logger: logger)
        } catch {
            logger.critical("Kaiwa cannot start: \(error)")
            throw ExitCode.failure
        }
        guard let tracing else {
            try await app.runService()
            return
        }
        // Stopped in reverse order: the server drains first, then the last spans are sent.
        let services = ServiceGroup(
            configuration: .init(services: [tracing, app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await services.run()
    }
}
