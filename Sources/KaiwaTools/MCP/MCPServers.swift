import Foundation
import KaiwaCore
import Logging
import MCP
import ServiceLifecycle
import Synchronization
import SystemPackage

/// MCP servers listed in an MCP config file (the common `{"mcpServers": {…}}` format):
/// `{"name": {"command": "…", "args": […], "env": {…}}}` for stdio, `{"url": "…"}` for
/// Streamable HTTP.
public struct MCPServerConfig: Sendable, Hashable {
    public var name: String
    public var command: String?
    public var arguments: [String]
    public var environment: [String: String]
    public var url: String?

    public init(name: String, command: String? = nil, arguments: [String] = [], environment: [String: String] = [:], url: String? = nil) {
        self.name = name
        self.command = command
        self.arguments = arguments
        self.environment = environment
        self.url = url
    }

    public struct FileError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func load(path: String) throws -> [MCPServerConfig] {
        struct File: Decodable {
            struct Server: Decodable {
                var command: String?
                var args: [String]?
                var env: [String: String]?
                var url: String?
            }
            var mcpServers: [String: Server]
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileError(description: "MCP config file \(path) cannot be read")
        }
        guard let file = try? JSONDecoder().decode(File.self, from: data) else {
            throw FileError(description: "MCP config file \(path) is not {\"mcpServers\": {name: {command, args, env} or {url}}}")
        }
        return try file.mcpServers.sorted { $0.key < $1.key }.map { name, server in
            guard server.command != nil || server.url != nil else {
                throw FileError(description: "MCP server \(name) in \(path) needs a command or a url")
            }
            return MCPServerConfig(name: name, command: server.command, arguments: server.args ?? [], environment: server.env ?? [:], url: server.url)
        }
    }
}

/// The connected MCP servers and their tools. Connecting happens once at start-up; a server
/// that does not start (or answer in time) is logged and skipped, and a server that dies
/// later makes its tools answer with an error result. Stopping the service ends the servers.
public final class MCPServers: Service, Sendable {
    /// The tools, named `<server>_<tool>`.
    public let tools: [any KaiwaCore.Tool]
    private let connections: [Connection]
    private let logger: Logger

    final class Connection: @unchecked Sendable {
        let name: String
        let client: Client
        // Foundation's Process is not Sendable; it is only touched at start and at shutdown.
        let process: Process?

        init(name: String, client: Client, process: Process?) {
            self.name = name
            self.client = client
            self.process = process
        }
    }

    private init(tools: [any KaiwaCore.Tool], connections: [Connection], logger: Logger) {
        self.tools = tools
        self.connections = connections
        self.logger = logger
    }

    /// Connects to every server (each within `timeout`) and lists its tools.
    /// Variables a stdio server gets from Kaiwa's own environment; the rest (model and AWS keys
    /// among them) stays with Kaiwa. A server's `env` in the config file adds what it needs.
    static let inheritedVariables: Set<String> = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM"]

    public static func connect(
        _ configs: [MCPServerConfig], timeout: Duration = .seconds(10),
        environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger
    ) async -> MCPServers {
        let base = environment.filter { inheritedVariables.contains($0.key) }
        var tools: [any KaiwaCore.Tool] = []
        var connections: [Connection] = []
        for config in configs {
            do {
                let connection = try await withTimeout(timeout) { try await open(config, base: base) }
                let listed = try await withTimeout(timeout) { try await connection.client.listTools().tools }
                tools += listed.map { MCPTool(server: config.name, remote: $0, client: connection.client, logger: logger) }
                connections.append(connection)
                logger.info("MCP server connected", metadata: ["server": "\(config.name)", "tools": "\(listed.count)"])
            } catch {
                logger.error("MCP server unavailable; its tools are left out", metadata: ["server": "\(config.name)", "error": "\(error)"])
            }
        }
        return MCPServers(tools: tools, connections: connections, logger: logger)
    }

    private static func open(_ config: MCPServerConfig, base: [String: String]) async throws -> Connection {
        let client = Client(name: "kaiwa", version: KaiwaVersion.current)
        if let url = config.url {
            guard let endpoint = URL(string: url) else { throw MCPServerConfig.FileError(description: "bad url \(url)") }
            let transport = HTTPClientTransport(endpoint: endpoint, streaming: true)
            try await client.connect(transport: ReceiveOnceTransport(transport, logger: transport.logger) { Task { await client.disconnect() } })
            return Connection(name: config.name, client: client, process: nil)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [config.command ?? ""] + config.arguments
        process.environment = base.merging(config.environment) { $1 }
        let toServer = Pipe()
        let fromServer = Pipe()
        // Close-on-exec, so that no other child (another MCP server started meanwhile) inherits
        // these ends: a write end held open elsewhere would keep this server's end of file from ever coming.
        for handle in [toServer.fileHandleForReading, toServer.fileHandleForWriting, fromServer.fileHandleForReading, fromServer.fileHandleForWriting] {
            _ = fcntl(handle.fileDescriptor, F_SETFD, FD_CLOEXEC)
        }
        process.standardInput = toServer
        process.standardOutput = fromServer
        process.standardError = FileHandle.nullDevice
        // A server that dies fails its pending and later calls instead of leaving them waiting.
        // Set before `run()`: Foundation on Linux never calls a handler set after the child was reaped.
        process.terminationHandler = { _ in Task { await client.disconnect() } }
        try process.run()
        let stdio = StdioTransport(
            input: FileDescriptor(rawValue: fromServer.fileHandleForReading.fileDescriptor),
            output: FileDescriptor(rawValue: toServer.fileHandleForWriting.fileDescriptor)
        )
        do {
            try await client.connect(transport: ReceiveOnceTransport(stdio, logger: stdio.logger) { Task { await client.disconnect() } })
        } catch {
            await client.disconnect()
            process.terminate()
            throw error
        }
        return Connection(name: config.name, client: client, process: process)
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Disconnects from every server and stops the ones Kaiwa started.
    public func shutdown() async {
        for connection in connections {
            await connection.client.disconnect()
            if let process = connection.process, process.isRunning { process.terminate() }
        }
    }
}

/// One tool of an MCP server, called through the same agent loop as Kaiwa's own tools.
struct MCPTool: KaiwaCore.Tool {
    let server: String
    let remote: MCP.Tool
    let client: Client
    let logger: Logger

    var spec: ToolSpec {
        ToolSpec(name: Self.localName(server: server, tool: remote.name), description: remote.description ?? remote.name, inputSchema: JSONValue(remote.inputSchema))
    }

    /// `<server>_<tool>`, limited to the characters and length every provider accepts.
    static func localName(server: String, tool: String) -> String {
        let raw = "\(server)_\(tool)"
        let cleaned = String(raw.map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || $0 == "_" || $0 == "-" ? $0 : "_" })
        return String(cleaned.prefix(64))
    }

    func call(_ input: JSONValue) async throws -> ToolOutput {
        guard case .object(let fields) = input else { return .failure("The input must be an object.") }
        let result: (content: [MCP.Tool.Content], isError: Bool?)
        do {
            result = try await client.callTool(name: remote.name, arguments: fields.mapValues(Value.init))
        } catch {
            // The error's own text (a transport's, a server's stack) is for the log, not for
            // the model or the people reading the tool's summary.
            logger.warning("MCP tool call failed", metadata: ["server": "\(server)", "tool": "\(remote.name)", "error": "\(error)"])
            return .failure("The tool \(remote.name) of \(server) could not be reached. Try again later.")
        }
        let text = result.content.compactMap { content -> String? in
            if case .text(let text, _, _) = content { return text }
            return nil
        }.joined(separator: "\n")
        return ToolOutput(content: text, summary: "\(server): \(text.prefix(120))", isError: result.isError ?? false)
    }
}

extension JSONValue {
    init(_ value: Value) {
        switch value {
        case .null: self = .null
        case .bool(let bool): self = .bool(bool)
        case .int(let int): self = .number(Double(int))
        case .double(let double): self = .number(double)
        case .string(let string): self = .string(string)
        case .data(_, let data): self = .string(data.base64EncodedString())
        case .array(let items): self = .array(items.map(JSONValue.init))
        case .object(let fields): self = .object(fields.mapValues(JSONValue.init))
        }
    }
}

extension Value {
    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let bool): self = .bool(bool)
        case .number(let number): self = number == number.rounded() && abs(number) < 1e15 ? .int(Int(number)) : .double(number)
        case .string(let string): self = .string(string)
        case .array(let items): self = .array(items.map(Value.init))
        case .object(let fields): self = .object(fields.mapValues(Value.init))
        }
    }
}

/// Runs `operation`, failing with `CancellationError` when it takes longer than `timeout`.
func withTimeout<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let value = try await group.next()! else { throw MCPServerConfig.FileError(description: "no answer within \(timeout)") }
        return value
    }
}
