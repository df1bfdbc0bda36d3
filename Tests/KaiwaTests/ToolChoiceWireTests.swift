import KaiwaCore
import Testing

@testable import KaiwaModels

/// What `/v1` clients ask of tools and sampling reaches each provider's own wire format.
struct ToolChoiceWireTests {
    static let tool = ToolSpec(name: "get_weather", description: "Weather", inputSchema: .object(["type": .string("object")]))

    static func request(_ choice: ToolChoice, history: [ChatMessage] = [.user("hi")]) -> ModelRequest {
        ModelRequest(messages: history, tools: [tool], topP: 0.5, toolChoice: choice)
    }

    static func field(_ body: JSONValue, _ path: String...) -> JSONValue? {
        var value: JSONValue? = body
        for key in path {
            guard case .object(let object)? = value else { return nil }
            value = object[key]
        }
        return value
    }

    @Test func openAIServersGetToolChoiceAndTopPAsOpenAIWritesThem() {
        #expect(Self.field(OpenAIWire.body(for: Self.request(.auto), model: "m", stream: true), "tool_choice") == nil)
        #expect(Self.field(OpenAIWire.body(for: Self.request(.none), model: "m", stream: true), "tool_choice") == .string("none"))
        #expect(Self.field(OpenAIWire.body(for: Self.request(.required), model: "m", stream: true), "tool_choice") == .string("required"))
        let named = OpenAIWire.body(for: Self.request(.tool("get_weather")), model: "m", stream: true)
        #expect(Self.field(named, "tool_choice", "function", "name") == .string("get_weather"))
        #expect(Self.field(named, "top_p") == .number(0.5))
    }

    @Test func bedrockGetsToolChoiceAsConverseWritesIt() {
        #expect(Self.field(BedrockWire.body(for: Self.request(.auto)), "toolConfig", "toolChoice") == nil)
        #expect(Self.field(BedrockWire.body(for: Self.request(.required)), "toolConfig", "toolChoice", "any") == .object([:]))
        #expect(Self.field(BedrockWire.body(for: Self.request(.tool("get_weather"))), "toolConfig", "toolChoice", "tool", "name") == .string("get_weather"))
        #expect(Self.field(BedrockWire.body(for: Self.request(.auto)), "inferenceConfig", "topP") == .number(0.5))
        // Converse has no "none": the tools are left out, unless the history has tool calls (then Converse needs them).
        #expect(Self.field(BedrockWire.body(for: Self.request(.none)), "toolConfig") == nil)
        let withCalls = Self.request(.none, history: [
            .user("hi"), ChatMessage(role: .assistant, content: [.toolUse(id: "t", name: "get_weather", input: .object([:]))]),
            ChatMessage(role: .user, content: [.toolResult(toolUseID: "t", isError: false, content: "sunny")]),
        ])
        #expect(Self.field(BedrockWire.body(for: withCalls), "toolConfig", "tools") != nil)
    }
}
