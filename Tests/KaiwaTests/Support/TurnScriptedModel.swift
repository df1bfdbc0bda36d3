import KaiwaCore
import Synchronization

/// A model whose n-th call replays the n-th script (the last one again when calls outnumber
/// scripts), recording every request — for driving the agent loop.
struct TurnScriptedModel: ModelProvider {
    var modelID: String { "scripted-agent" }
    let scripts: [[ModelStreamEvent]]
    let requests = ScriptedModel.Requests()

    func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelStreamEvent, any Error> {
        requests.record(request)
        let index = min(requests.recorded.count, scripts.count) - 1
        return .replaying(scripts[index])
    }

    /// A turn that calls one tool with `input` (sent as two JSON fragments).
    static func callTool(_ name: String, id: String, input: String) -> [ModelStreamEvent] {
        let middle = input.index(input.startIndex, offsetBy: input.count / 2)
        return [
            .toolUseStart(id: id, name: name), .toolUseInputDelta(id: id, fragment: String(input[..<middle])),
            .toolUseInputDelta(id: id, fragment: String(input[middle...])), .toolUseEnd(id: id), .stop(.toolUse),
        ]
    }

    static func say(_ text: String) -> [ModelStreamEvent] {
        [.textDelta(text), .usage(TokenUsage(inputTokens: 10, outputTokens: 5)), .stop(.endTurn)]
    }
}

/// A tool for tests: echoes its input after an optional delay, counting calls.
struct EchoTool: Tool {
    var name = "echo"
    var delay: Duration = .zero
    let calls = CallCounter()
    /// How many calls ran at the same time, at most.
    let overlap = Shared((now: 0, most: 0))

    var spec: ToolSpec {
        ToolSpec(
            name: name, description: "Echoes text",
            inputSchema: .object([
                "type": .string("object"),
                "properties": .object([
                    "text": .object(["type": .string("string")]),
                    "mode": .object(["type": .string("string"), "enum": .array([.string("plain"), .string("loud")])]),
                ]),
                "required": .array([.string("text")]),
            ])
        )
    }

    func call(_ input: JSONValue) async throws -> ToolOutput {
        _ = calls.next()
        overlap.update { $0.now += 1; $0.most = max($0.most, $0.now) }
        defer { overlap.update { $0.now -= 1 } }
        if delay > .zero { try await Task.sleep(for: delay) }
        guard case .object(let fields) = input, case .string(let text)? = fields["text"] else { return .failure("no text") }
        return ToolOutput(content: "echo: \(text)", summary: "echoed \(text.count) characters")
    }
}
