import Foundation
import KaiwaAgent
import KaiwaCore
import KaiwaStore
import MCP
@testable import KaiwaTools
import Logging
import Synchronization
import Testing

/// Tools from MCP servers: the package's own stdio test server, started by the tests.
struct MCPToolTests {
    /// The test server's executable, built next to the test bundle.
    static var serverPath: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kaiwa-test-mcp-server").path
    }

    static func connect(_ extra: [MCPServerConfig] = []) async -> MCPServers {
        await MCPServers.connect(
            [MCPServerConfig(name: "test", command: serverPath)] + extra, timeout: .seconds(20), logger: Logger(label: "mcp-test")
        )
    }

    @Test func stdioServerToolsJoinUnderAPrefixAndAnswer() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.serverPath), "build the test server first: \(Self.serverPath)")
        let servers = await Self.connect()
        defer { Task { await servers.shutdown() } }
        let names = servers.tools.map(\.spec.name).sorted()
        #expect(names == ["test_add", "test_crash"])
        let add = try #require(servers.tools.first { $0.spec.name == "test_add" })
        #expect(add.spec.description == "Adds two numbers")
        let output = try await add.call(.object(["a": .number(2), "b": .number(3)]))
        #expect(!output.isError)
        #expect(output.content == "5.0")
    }

    @Test func aStdioServerGetsAMinimalEnvironmentPlusItsOwnNotKaiwasSecrets() async throws {
        let servers = await MCPServers.connect(
            [MCPServerConfig(name: "test", command: Self.serverPath, environment: ["KAIWA_TEST_MCP_ENV_TOOL": "1", "OWN_SETTING": "mine"])],
            timeout: .seconds(20),
            environment: [
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "AWS_SECRET_ACCESS_KEY": "shh",
                "KAIWA_OPENAI_API_KEY": "sk-secret", "LANG": "C.UTF-8",
            ],
            logger: Logger(label: "mcp-test")
        )
        defer { Task { await servers.shutdown() } }
        let env = try #require(servers.tools.first { $0.spec.name == "test_env" })
        func value(_ name: String) async throws -> String { try await env.call(.object(["name": .string(name)])).content }
        #expect(try await value("AWS_SECRET_ACCESS_KEY") == "(unset)")
        #expect(try await value("KAIWA_OPENAI_API_KEY") == "(unset)")
        #expect(try await value("OWN_SETTING") == "mine")
        #expect(try await value("LANG") == "C.UTF-8")
    }

    @Test func serverThatFailsToStartIsSkippedAndOneThatDiesLeavesErrorResults() async throws {
        let servers = await Self.connect([MCPServerConfig(name: "ghost", command: "/nonexistent/mcp-server")])
        defer { Task { await servers.shutdown() } }
        #expect(servers.tools.map(\.spec.name).sorted() == ["test_add", "test_crash"])
        let crash = try #require(servers.tools.first { $0.spec.name == "test_crash" })
        let add = try #require(servers.tools.first { $0.spec.name == "test_add" })
        _ = try? await withThrowingTaskGroup(of: ToolOutput.self) { group in
            group.addTask { try await crash.call(.object([:])) }
            group.addTask {
                try await Task.sleep(for: .seconds(3))
                return .failure("no answer")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        let afterDeath = try await withThrowingTaskGroup(of: ToolOutput.self) { group in
            group.addTask { try await add.call(.object(["a": .number(1), "b": .number(1)])) }
            group.addTask {
                try await Task.sleep(for: .seconds(3))
                return .failure("no answer from a dead server")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        #expect(afterDeath.isError)
        // A sentence for the model and the people reading the tool's summary; the transport's
        // own error text goes to the log only.
        #expect(afterDeath.summary == "The tool add of test could not be reached. Try again later.")
        #expect(afterDeath.content == afterDeath.summary)
    }

    /// A transport whose stream has ended (a server that hung up): the client once asked it
    /// again and again for ever, at 100% CPU, with its pending calls never answered.
    @Test(.timeLimit(.minutes(1)))
    func aTransportThatHasEndedFailsTheConnectionAtOnceWithoutSpinning() async throws {
        let client = Client(name: "kaiwa-test", version: "0")
        let ended = EndedTransport()
        await #expect(throws: (any Error).self) {
            try await client.connect(transport: ReceiveOnceTransport(ended, logger: Logger(label: "mcp-test")) { Task { await client.disconnect() } })
        }
        // Asked for its stream once, not again and again.
        #expect(await ended.receives == 1)
    }

    @Test func agentLoopCallsAnMCPToolLikeAnyOther() async throws {
        let servers = await Self.connect()
        defer { Task { await servers.shutdown() } }
        let model = TurnScriptedModel(scripts: [TurnScriptedModel.callTool("test_add", id: "m1", input: #"{"a":20,"b":22}"#), TurnScriptedModel.say("42")])
        let profile = AgentProfile(name: "mathy", displayName: "Mathy", systemPrompt: "Add.", tools: ["test_add"])
        let chat = ChatService(
            store: InMemoryChatStore(), model: model, tools: Dictionary(uniqueKeysWithValues: servers.tools.map { ($0.spec.name, $0) }),
            agents: AgentCatalog(profiles: [profile], defaultName: "mathy")
        )
        let turn = try await chat.begin(ChatRequest(message: "20+22?"))
        let events = Mutex<[ChatEvent]>([])
        await chat.run(turn) { event in events.withLock { $0.append(event.event) } }
        #expect(events.withLock { $0 }.contains { if case .toolResult("m1", true, let summary) = $0 { summary.contains("42") } else { false } })
    }
}

/// A transport whose server has gone: it takes what is sent, and its stream is over.
actor EndedTransport: Transport {
    nonisolated let logger = Logger(label: "ended-transport")
    private(set) var receives = 0
    func connect() async throws {}
    func disconnect() async {}
    func send(_ data: Data) async throws {}
    func receive() -> AsyncThrowingStream<Data, any Error> {
        receives += 1
        return AsyncThrowingStream { $0.finish() }
    }
}
