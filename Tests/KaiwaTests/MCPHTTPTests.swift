import Foundation
import HTTPTypes
import Hummingbird
import KaiwaCore
import KaiwaTools
import Logging
import Testing

/// An MCP server over Streamable HTTP (a minimal one on loopback: JSON answers, no SSE).
struct MCPHTTPTests {
    static func answer(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        guard let message = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
            let method = message["method"] as? String
        else { return Response(status: .badRequest) }
        guard let id = message["id"] else { return Response(status: .accepted) }  // a notification
        let result: Any
        switch method {
        case "initialize":
            result = ["protocolVersion": (message["params"] as? [String: Any])?["protocolVersion"] ?? "2025-06-18",
                      "capabilities": ["tools": [String: Any]()], "serverInfo": ["name": "http-test", "version": "1"]]
        case "tools/list":
            result = ["tools": [["name": "shout", "description": "Upper-cases text",
                                 "inputSchema": ["type": "object", "properties": ["text": ["type": "string"]], "required": ["text"]]]]]
        case "tools/call":
            let text = ((message["params"] as? [String: Any])?["arguments"] as? [String: Any])?["text"] as? String ?? ""
            result = ["content": [["type": "text", "text": text.uppercased()]], "isError": false]
        default:
            result = [String: Any]()
        }
        let data = try JSONSerialization.data(withJSONObject: ["jsonrpc": "2.0", "id": id, "result": result])
        return Response(
            status: .ok, headers: [.contentType: "application/json", HTTPField.Name("Mcp-Session-Id")!: "session-1"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    @Test func streamableHTTPServerToolsJoinAndAnswer() async throws {
        try await withFakeUpstream({ router in
            router.post("/mcp") { request, _ in try await Self.answer(request) }
            router.get("/mcp") { _, _ in Response(status: .methodNotAllowed) }
            router.delete("/mcp") { _, _ in Response(status: .ok) }
        }) { base in
            let servers = await MCPServers.connect(
                [MCPServerConfig(name: "web", url: base + "/mcp")], timeout: .seconds(10), logger: Logger(label: "mcp-http")
            )
            let shout = try #require(servers.tools.first)
            #expect(shout.spec.name == "web_shout")
            let output = try await shout.call(.object(["text": .string("hello")]))
            #expect(output.content == "HELLO")
            #expect(!output.isError)
        }
    }
}
