import Configuration
import KaiwaModels
import Foundation
import Logging
import SystemPackage

/// A configuration value that is present but unusable. Start-up stops with this message.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var key: String
    public var problem: String

    public var description: String {
        "Configuration \(key) (environment variable \(ConfigurationError.environmentName(of: key))) \(problem)"
    }

    static func environmentName(of key: String) -> String {
        "KAIWA_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

extension KaiwaConfiguration {
    /// The provider order Kaiwa reads: flags, then `KAIWA_*` environment variables, then the config file.
    public static func reader(
        flags: [String: String] = [:],
        environment: [String: String]? = nil,
        configFile: String? = nil
    ) async throws -> ConfigReader {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in flags {
            values[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = .init(.string(value), isSecret: false)
        }
        let environmentProvider =
            environment.map { EnvironmentVariablesProvider(environmentVariables: $0) } ?? EnvironmentVariablesProvider()
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: values),
            environmentProvider.prefixKeys(with: "kaiwa"),
        ]
        if let configFile {
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(configFile)))
            } catch {
                throw ConfigurationError(key: "config.file", problem: "names \(configFile), which cannot be read as JSON: \(error)")
            }
        }
        return ConfigReader(providers: providers)
    }

    /// Reads every setting, failing on the first value that is present but unusable.
    /// `environment` tells where the server runs (AWS Lambda sets `AWS_LAMBDA_FUNCTION_NAME`).
    public init(reader: ConfigReader, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.init()
        lambdaFunctionName = environment["AWS_LAMBDA_FUNCTION_NAME"].flatMap { $0.isEmpty ? nil : $0 }
        // Lambda's log collection reads JSON lines best; a setting still wins.
        if lambdaFunctionName != nil { logFormat = .json }
        let values = StrictValues(reader: reader)
        host = try values.string("host", default: host)
        port = try values.int("port", default: port, in: 0...65535)
        store = try values.choice("store", default: store)
        if let function = lambdaFunctionName, store == .sqlite {
            throw ConfigurationError(
                key: "store",
                problem: "is sqlite, but Kaiwa runs on AWS Lambda here (function \(function)): a Lambda instance's disk is lost when the instance goes, "
                    + "and with it the history. Set KAIWA_STORE=dynamodb (create the tables with `kaiwa store create-tables`)."
            )
        }
        sqlitePath = try values.string("sqlite.path", default: sqlitePath)
        dynamoDBTablePrefix = try values.string("dynamodb.table.prefix", default: dynamoDBTablePrefix)
        guard dynamoDBTablePrefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }),
            dynamoDBTablePrefix.count <= 200
        else {
            throw ConfigurationError(
                key: "dynamodb.table.prefix", problem: "is \"\(dynamoDBTablePrefix)\"; table names allow only letters, digits, _, - and ."
            )
        }
        model = try values.string("model", default: model)
        modelsPath = try values.optionalString("models.path")
        openAIBaseURL = try values.string("openai.base.url", default: openAIBaseURL)
        openAIAPIKey = try values.optionalString("openai.api.key")
        modelConnectTimeoutSeconds = try values.int("model.connect.timeout", default: modelConnectTimeoutSeconds, in: 1...600)
        modelFirstTokenTimeoutSeconds = try values.int("model.first.token.timeout", default: modelFirstTokenTimeoutSeconds, in: 1...3600)
        modelIdleTimeoutSeconds = try values.int("model.idle.timeout", default: modelIdleTimeoutSeconds, in: 1...3600)
        modelMaxAttempts = try values.int("model.max.attempts", default: modelMaxAttempts, in: 1...10)
        bedrockStreaming = try values.bool("bedrock.stream", default: bedrockStreaming)
        agentsPath = try values.optionalString("agents.path")
        defaultAgent = try values.optionalString("agent.default")
        titlesFromModel = try values.bool("titles.from.model", default: titlesFromModel)
        attachmentMaxBytes = try values.int("attachments.max.bytes", default: attachmentMaxBytes, in: 1...(100 * 1024 * 1024))
        attachmentsPerMessage = try values.int("attachments.max.per.message", default: attachmentsPerMessage, in: 0...50)
        attachmentBucket = try values.optionalString("attachments.s3.bucket")
        if let bucket = attachmentBucket,
            !(3...63).contains(bucket.count) || !bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") })
        {
            throw ConfigurationError(key: "attachments.s3.bucket", problem: "is \"\(bucket)\", not an S3 bucket name (3–63 lowercase letters, digits, - and .)")
        }
        attachmentPrefix = try values.string("attachments.s3.prefix", default: attachmentPrefix)
        mcpConfigPath = try values.optionalString("mcp.config")
        agentMaxCycles = try values.int("agent.max.cycles", default: agentMaxCycles, in: 1...100)
        toolTimeoutSeconds = try values.int("tool.timeout", default: toolTimeoutSeconds, in: 1...3600)
        contextBudgetTokens = try values.int("context.budget.tokens", default: contextBudgetTokens, in: 100...10_000_000)
        connpassAPIKey = try values.optionalString("connpass.api.key")
        connpassBaseURL = try values.string("connpass.base.url", default: connpassBaseURL)
        connpassSecretID = try values.string("connpass.secret.id", default: connpassSecretID)
        rulesPath = try values.optionalString("rules.path")
        sessionIdleTimeoutSeconds = try values.int("session.idle.timeout", default: sessionIdleTimeoutSeconds, in: 0...Int(Int32.max))
        sessionRetentionSeconds = try values.int("session.retention", default: sessionRetentionSeconds, in: 1...Int(Int32.max))
        retentionSweepIntervalSeconds = try values.int(
            "retention.sweep.interval", default: retentionSweepIntervalSeconds, in: 1...Int(Int32.max)
        )
        historyLimit = try values.int("history.limit", default: historyLimit, in: 1...10_000)
        maxBodyBytes = try values.int("max.body.bytes", default: maxBodyBytes, in: 1024...(64 * 1024 * 1024))
        maxMessageBytes = try values.int("max.message.bytes", default: maxMessageBytes, in: 1...(64 * 1024 * 1024))
        webSocketMaxFrameBytes = try values.int("ws.max.frame.bytes", default: webSocketMaxFrameBytes, in: 1024...(16 * 1024 * 1024))
        webSocketConnectionTTLSeconds = try values.int("ws.connection.ttl", default: webSocketConnectionTTLSeconds, in: 1...Int(Int32.max))
        httpIdleTimeoutSeconds = try values.int("http.idle.timeout", default: httpIdleTimeoutSeconds, in: 1...86_400)
        httpMaxConnections = try values.int("http.max.connections", default: httpMaxConnections, in: 1...1_000_000)
        replyMaxSeconds = try values.int("reply.max.seconds", default: replyMaxSeconds, in: 1...86_400)
        replyCancelOnDisconnect = try values.bool("reply.cancel.on.disconnect", default: replyCancelOnDisconnect)
        replyResumeGraceSeconds = try values.int("reply.resume.grace", default: replyResumeGraceSeconds, in: 0...86_400)
        replySessionLeaseSeconds = try values.int("reply.session.lease", default: replySessionLeaseSeconds, in: 3...3600)
        shutdownDrainSeconds = try values.int("shutdown.drain.seconds", default: shutdownDrainSeconds, in: 0...3600)
        corsAllowedOrigins = try values.list("cors.allowed.origins", default: corsAllowedOrigins)
        logFormat = try values.choice("log.format", default: logFormat)
        logLevel = try values.string("log.level", default: logLevel)
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ConfigurationError(key: "log.level", problem: "is \"\(logLevel)\"; use one of trace, debug, info, notice, warning, error, critical.")
        }
        webRoot = try values.optionalString("web.root")
        apiGatewayWebSocketPath = try values.optionalString("apigw.websocket.path")
        if let path = apiGatewayWebSocketPath, !path.hasPrefix("/") || path.contains(" ") {
            throw ConfigurationError(key: "apigw.websocket.path", problem: "is \"\(path)\"; give a path that starts with / (e.g. /apigw/websocket)")
        }
        // Events there name their user; only on Lambda are they sure to come from API Gateway.
        if apiGatewayWebSocketPath != nil, lambdaFunctionName == nil {
            throw ConfigurationError(
                key: "apigw.websocket.path",
                problem: "is set, but this is not AWS Lambda: API Gateway WebSocket events arrive only through the Lambda Web Adapter, and elsewhere anyone who reaches the server could post one in a user's name"
            )
        }
        apiGatewayManagementEndpoint = try values.optionalString("apigw.management.endpoint")
        metricsEnabled = try values.bool("metrics.enabled", default: metricsEnabled)
        metricsToken = try values.optionalString("metrics.token")
        otelEndpoint = try values.optionalString("otel.endpoint")
            ?? [environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], environment["OTEL_EXPORTER_OTLP_ENDPOINT"]]
            .compactMap { $0?.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
        if let endpoint = otelEndpoint, URL(string: endpoint)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            throw ConfigurationError(key: "otel.endpoint", problem: "is \"\(endpoint)\", not an http(s) URL of an OTLP/HTTP receiver (e.g. http://127.0.0.1:4318)")
        }
        auth = try AuthConfiguration(reading: values)
        if modelsPath == nil { _ = try modelChoice }
        guard URL(string: openAIBaseURL)?.scheme?.hasPrefix("http") == true else {
            throw ConfigurationError(key: "openai.base.url", problem: "is \"\(openAIBaseURL)\", not an http(s) URL.")
        }
    }
}

/// Which model family `model` names.
public enum ModelChoice: Sendable, Equatable {
    case rules
    case openAI(model: String)
    case bedrock(modelID: String)
}

extension ModelChoice {
    /// `rules`, `openai:<model>`, `bedrock` or `bedrock:<model id>`; `nil` for anything else.
    public init?(parsing name: String) {
        if name == "rules" {
            self = .rules
        } else if name == "bedrock" {
            self = .bedrock(modelID: BedrockProvider.defaultModelID)
        } else if name.hasPrefix("openai:"), name.count > 7 {
            self = .openAI(model: String(name.dropFirst(7)))
        } else if name.hasPrefix("bedrock:"), name.count > 8 {
            self = .bedrock(modelID: String(name.dropFirst(8)))
        } else {
            return nil
        }
    }

    static let spelling = "use rules, openai:<model> (e.g. openai:llama3.2) or bedrock:<model id>"
}

extension KaiwaConfiguration {
    /// The model `model` names, or an error saying how to write it.
    public var modelChoice: ModelChoice {
        get throws {
            guard let choice = ModelChoice(parsing: model) else {
                throw ConfigurationError(key: "model", problem: "is \"\(model)\"; \(ModelChoice.spelling).")
            }
            return choice
        }
    }
}

/// Typed reads that tell "missing" (use the default) from "present but wrong" (an error).
struct StrictValues {
    let reader: ConfigReader

    func optionalString(_ key: String) throws -> String? {
        guard let value = reader.string(forKey: ConfigKey(key)) else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    func string(_ key: String, default defaultValue: String) throws -> String {
        try optionalString(key) ?? defaultValue
    }

    func int(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
        let value: Int
        if let number = reader.int(forKey: ConfigKey(key)) {
            value = number
        } else if let text = try optionalString(key) {
            guard let number = Int(text) else { throw ConfigurationError(key: key, problem: "is \"\(text)\", not a whole number.") }
            value = number
        } else {
            return defaultValue
        }
        guard range.contains(value) else {
            throw ConfigurationError(key: key, problem: "is \(value); it must be between \(range.lowerBound) and \(range.upperBound).")
        }
        return value
    }

    func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        if let value = reader.bool(forKey: ConfigKey(key)) { return value }
        guard let text = try optionalString(key) else { return defaultValue }
        switch text.lowercased() {
        case "true", "yes", "1", "on": return true
        case "false", "no", "0", "off": return false
        default: throw ConfigurationError(key: key, problem: "is \"\(text)\"; use true or false.")
        }
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, default defaultValue: T) throws -> T where T.RawValue == String {
        guard let text = try optionalString(key) else { return defaultValue }
        guard let value = T(rawValue: text.lowercased()) else {
            let options = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(key: key, problem: "is \"\(text)\"; use one of \(options).")
        }
        return value
    }

    func list(_ key: String, default defaultValue: [String]) throws -> [String] {
        if let items = reader.stringArray(forKey: ConfigKey(key)) {
            let cleaned = items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return cleaned.isEmpty ? defaultValue : cleaned
        }
        guard let text = try optionalString(key) else { return defaultValue }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
