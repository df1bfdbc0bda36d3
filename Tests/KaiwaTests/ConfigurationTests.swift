import Configuration
import Foundation
@testable import KaiwaServer
import Testing

struct ConfigurationTests {
    func configuration(flags: [String: String] = [:], environment: [String: String] = [:], file: String? = nil) async throws -> KaiwaConfiguration {
        try KaiwaConfiguration(
            reader: await KaiwaConfiguration.reader(flags: flags, environment: environment, configFile: file), environment: environment
        )
    }

    @Test func onLambdaSQLiteIsRefusedWithAMessageThatSaysToUseDynamoDB() async throws {
        let error = await #expect(throws: ConfigurationError.self) {
            try await configuration(environment: ["AWS_LAMBDA_FUNCTION_NAME": "kaiwa-chat"])
        }
        #expect(error?.key == "store")
        #expect(error?.description.contains("KAIWA_STORE=dynamodb") == true)
        #expect(error?.description.contains("kaiwa-chat") == true)
    }

    @Test func onLambdaLogsAreJSONUnlessSetOtherwise() async throws {
        let lambda = ["AWS_LAMBDA_FUNCTION_NAME": "kaiwa-chat", "KAIWA_STORE": "dynamodb"]
        let config = try await configuration(environment: lambda)
        #expect(config.lambdaFunctionName == "kaiwa-chat")
        #expect(config.logFormat == .json)
        #expect(try await configuration(environment: lambda.merging(["KAIWA_LOG_FORMAT": "text"]) { $1 }).logFormat == .text)
        // Off Lambda, nothing changes.
        let laptop = try await configuration()
        #expect(laptop.lambdaFunctionName == nil)
        #expect(laptop.logFormat == .text)
    }

    @Test func apiGatewayEventsAreTakenOnlyOnLambda() async throws {
        let error = await #expect(throws: ConfigurationError.self) {
            try await configuration(environment: ["KAIWA_APIGW_WEBSOCKET_PATH": "/apigw/websocket"])
        }
        #expect(error?.key == "apigw.websocket.path")
        #expect(error?.description.contains("not AWS Lambda") == true)
        let lambda = ["KAIWA_APIGW_WEBSOCKET_PATH": "/apigw/websocket", "AWS_LAMBDA_FUNCTION_NAME": "kaiwa", "KAIWA_STORE": "dynamodb"]
        #expect(try await configuration(environment: lambda).apiGatewayWebSocketPath == "/apigw/websocket")
    }

    /// The deploy templates' AgentProfile parameter: Confee (seed 001) as the default agent.
    @Test func theDefaultAgentCanBeChosenAndAnUnknownOneStopsStartUp() async throws {
        var config = try await configuration(environment: ["KAIWA_AGENT_DEFAULT": "confee", "KAIWA_STORE": "memory"])
        #expect(config.defaultAgent == "confee")
        let dependencies = try await AppDependencies.make(from: config, environment: [:])
        #expect(dependencies.agents.defaultName == "confee")
        await dependencies.shutDownHTTPClients()

        config.defaultAgent = "concierge"
        let error = await #expect(throws: ConfigurationError.self) {
            try await AppDependencies.make(from: config, environment: [:])
        }
        #expect(error?.key == "agent.default")
        #expect(error?.description.contains("known: assistant, confee") == true)
    }

    @Test func defaultsWorkOnALaptop() async throws {
        let config = try await configuration()
        #expect(config.host == "127.0.0.1")
        #expect(config.port == 8080)
        #expect(config.store == .sqlite)
        #expect(config.sqlitePath == "./kaiwa.sqlite")
        #expect(config.model == "rules")
        #expect(config.sessionIdleTimeoutSeconds == 1800)
        #expect(config.sessionRetentionSeconds == 7 * 24 * 3600)
        #expect(config.corsAllowedOrigins.isEmpty)
        #expect(config.auth.mode == .none)
    }

    @Test func flagsBeatEnvironmentWhichBeatsTheConfigFile() async throws {
        let file = try makeTemporaryDirectory().appendingPathComponent("kaiwa.json")
        try Data(#"{"port": 9000, "host": "0.0.0.0", "sqlite": {"path": "/data/file.sqlite"}, "log": {"format": "json"}}"#.utf8)
            .write(to: file)
        let config = try await configuration(
            flags: ["port": "9100"],
            environment: ["KAIWA_PORT": "9050", "KAIWA_HOST": "10.0.0.1", "KAIWA_CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example"],
            file: file.path
        )
        #expect(config.port == 9100)
        #expect(config.host == "10.0.0.1")
        #expect(config.sqlitePath == "/data/file.sqlite")
        #expect(config.logFormat == .json)
        #expect(config.corsAllowedOrigins == ["https://a.example", "https://b.example"])
    }

    @Test func modelNamesAFamilyAndAModel() async throws {
        #expect(try await configuration().modelChoice == .rules)
        #expect(try await configuration(environment: ["KAIWA_MODEL": "openai:llama3.2"]).modelChoice == .openAI(model: "llama3.2"))
        #expect(try await configuration(environment: ["KAIWA_MODEL": "bedrock"]).modelChoice == .bedrock(modelID: "apac.amazon.nova-micro-v1:0"))
        #expect(
            try await configuration(environment: ["KAIWA_MODEL": "bedrock:anthropic.claude-3-5-sonnet-20241022-v2:0"]).modelChoice
                == .bedrock(modelID: "anthropic.claude-3-5-sonnet-20241022-v2:0")
        )
    }

    @Test func idleTimeoutOfZeroDisablesExpiry() async throws {
        let config = try await configuration(environment: ["KAIWA_SESSION_IDLE_TIMEOUT": "0"])
        #expect(config.chatSettings.idleTimeout == nil)
    }

    @Test(arguments: [
        ("KAIWA_PORT", "eighty", "KAIWA_PORT"),
        ("KAIWA_PORT", "70000", "between 0 and 65535"),
        ("KAIWA_STORE", "postgres", "use one of sqlite, dynamodb, memory"),
        ("KAIWA_DYNAMODB_TABLE_PREFIX", "my tables/", "table names allow only letters, digits"),
        ("KAIWA_LOG_LEVEL", "loud", "use one of trace"),
        ("KAIWA_MODEL", "gpt", "use rules, openai:<model>"),
        ("KAIWA_MODEL", "openai:", "use rules, openai:<model>"),
        ("KAIWA_OPENAI_BASE_URL", "localhost:11434", "not an http(s) URL"),
    ])
    func unusableValueStopsStartUpNamingTheVariable(variable: String, value: String, expected: String) async throws {
        let error = await #expect(throws: ConfigurationError.self) {
            try await configuration(environment: [variable: value])
        }
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "")")
    }

    @Test func unreadableConfigFileStopsStartUp() async throws {
        let file = try makeTemporaryDirectory().appendingPathComponent("kaiwa.json")
        try Data("{ nope".utf8).write(to: file)
        await #expect(throws: ConfigurationError.self) { try await configuration(file: file.path) }
    }
}
