import Foundation
import MCP

/// An MCP server on stdio for Kaiwa's tests: `add` adds two numbers, `crash` exits the process;
/// with `KAIWA_TEST_MCP_ENV_TOOL=1` in its environment, `env` tells the value of a variable.
@main
struct MCPTestServer {
    static func main() async throws {
        let server = Server(name: "kaiwa-test", version: "1.0.0", capabilities: .init(tools: .init()))
        await server.withMethodHandler(ListTools.self) { _ in
            ListTools.Result(tools: [
                Tool(
                    name: "add", description: "Adds two numbers",
                    inputSchema: .object([
                        "type": .string("object"),
                        "properties": .object(["a": .object(["type": .string("number")]), "b": .object(["type": .string("number")])]),
                        "required": .array([.string("a"), .string("b")]),
                    ])
                ),
                Tool(name: "crash", description: "Exits the server", inputSchema: .object(["type": .string("object")])),
            ] + (ProcessInfo.processInfo.environment["KAIWA_TEST_MCP_ENV_TOOL"] == "1" ? [
                Tool(
                    name: "env", description: "The value of an environment variable",
                    inputSchema: .object(["type": .string("object"), "properties": .object(["name": .object(["type": .string("string")])])])
                )
            ] : []))
        }
        await server.withMethodHandler(CallTool.self) { parameters in
            switch parameters.name {
            case "add":
                func number(_ value: Value?) -> Double {
                    switch value {
                    case .int(let int)?: Double(int)
                    case .double(let double)?: double
                    default: .nan
                    }
                }
                let sum = number(parameters.arguments?["a"]) + number(parameters.arguments?["b"])
                return CallTool.Result(content: [.text(text: "\(sum)", annotations: nil, _meta: nil)], isError: false)
            case "crash":
                exit(3)
            case "env":
                guard case .string(let name)? = parameters.arguments?["name"] else { return CallTool.Result(content: [], isError: true) }
                let value = ProcessInfo.processInfo.environment[name] ?? "(unset)"
                return CallTool.Result(content: [.text(text: value, annotations: nil, _meta: nil)], isError: false)
            default:
                return CallTool.Result(content: [.text(text: "unknown tool", annotations: nil, _meta: nil)], isError: true)
            }
        }
        try await server.start(transport: StdioTransport())
        await server.waitUntilCompleted()
    }
}
