import Foundation
import KaiwaCore

/// The JSON of OpenAI's `/chat/completions`, as far as Kaiwa uses it.
enum OpenAIWire {
    /// The request body for `request`, streamed with usage.
    static func body(for request: ModelRequest, model: String, stream: Bool) -> JSONValue {
        var messages: [JSONValue] = []
        if let system = request.system { messages.append(.object(["role": .string("system"), "content": .string(system)])) }
        for message in request.messages {
            messages += encode(message, attachmentData: request.attachmentData)
        }
        var body: [String: JSONValue] = ["model": .string(model), "messages": .array(messages), "stream": .bool(stream)]
        if stream { body["stream_options"] = .object(["include_usage": .bool(true)]) }
        if let maxTokens = request.maxTokens { body["max_tokens"] = .number(Double(maxTokens)) }
        if let temperature = request.temperature { body["temperature"] = .number(temperature) }
        if let topP = request.topP { body["top_p"] = .number(topP) }
        if !request.stopSequences.isEmpty { body["stop"] = .array(request.stopSequences.map(JSONValue.string)) }
        if !request.tools.isEmpty {
            body["tools"] = .array(
                request.tools.map { tool in
                    .object([
                        "type": .string("function"),
                        "function": .object([
                            "name": .string(tool.name), "description": .string(tool.description), "parameters": tool.inputSchema,
                        ]),
                    ])
                }
            )
            switch request.toolChoice {
            case .auto: break
            case .none: body["tool_choice"] = .string("none")
            case .required: body["tool_choice"] = .string("required")
            case .tool(let name): body["tool_choice"] = .object(["type": .string("function"), "function": .object(["name": .string(name)])])
            }
        }
        return .object(body)
    }

    /// One Kaiwa message as OpenAI messages: tool results become `tool` messages of their own.
    static func encode(_ message: ChatMessage, attachmentData: [String: Data] = [:]) -> [JSONValue] {
        var output: [JSONValue] = []
        var text = ""
        var toolCalls: [JSONValue] = []
        var images: [JSONValue] = []
        for block in message.content {
            switch block {
            case .text(let value):
                text += value
            case .attachment(let file):
                // Images as image parts; text files inline (Chat Completions has no documents).
                if let data = attachmentData[file.id], file.kind == .image {
                    images.append(.object([
                        "type": .string("image_url"),
                        "image_url": .object(["url": .string("data:\(file.mediaType);base64,\(data.base64EncodedString())")]),
                    ]))
                } else {
                    text += inline(file, data: attachmentData[file.id])
                }
            case .toolUse(let id, let name, let input):
                toolCalls.append(.object([
                    "id": .string(id), "type": .string("function"),
                    "function": .object(["name": .string(name), "arguments": .string(JSONText.encode(input))]),
                ]))
            case .toolResult(let toolUseID, let isError, let content):
                output.append(.object([
                    "role": .string("tool"), "tool_call_id": .string(toolUseID),
                    "content": .string(isError ? "Error: \(content)" : content),
                ]))
            }
        }
        if !images.isEmpty {
            let parts = (text.isEmpty ? [] : [JSONValue.object(["type": .string("text"), "text": .string(text)])]) + images
            output.insert(.object(["role": .string(message.role.rawValue), "content": .array(parts)]), at: 0)
        } else if !text.isEmpty || !toolCalls.isEmpty {
            var object: [String: JSONValue] = ["role": .string(message.role.rawValue), "content": text.isEmpty ? .null : .string(text)]
            if !toolCalls.isEmpty { object["tool_calls"] = .array(toolCalls) }
            output.insert(.object(object), at: 0)
        }
        return output
    }

    /// A text file's contents in a fenced block after the message, named; a note for a file
    /// whose bytes are gone or that cannot be read as text.
    static func inline(_ file: Attachment, data: Data?) -> String {
        guard file.isText, let data, let contents = String(data: data, encoding: .utf8) else {
            return "\n\n[\(file.name): the attached file is not available to this model]"
        }
        let fence = contents.contains("```") ? "~~~~" : "```"
        return "\n\n\(file.name):\n\(fence)\n\(contents)\n\(fence)"
    }

    /// A streamed chunk (`chat.completion.chunk`) or a whole answer (`chat.completion`).
    struct Completion: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable {
                var content: String?
                var toolCalls: [ToolCall]?
                enum CodingKeys: String, CodingKey {
                    case content
                    case toolCalls = "tool_calls"
                }
            }
            var delta: Message?
            var message: Message?
            var finishReason: String?
            enum CodingKeys: String, CodingKey {
                case delta, message
                case finishReason = "finish_reason"
            }
        }
        struct ToolCall: Decodable {
            struct Function: Decodable {
                var name: String?
                var arguments: String?
            }
            var index: Int?
            var id: String?
            var function: Function?
        }
        struct Usage: Decodable {
            var promptTokens: Int
            var completionTokens: Int
            enum CodingKeys: String, CodingKey {
                case promptTokens = "prompt_tokens"
                case completionTokens = "completion_tokens"
            }
        }
        var choices: [Choice]?
        var usage: Usage?
    }

    static func stopReason(_ finishReason: String) -> StopReason {
        switch finishReason {
        case "tool_calls", "function_call": .toolUse
        case "length": .maxTokens
        default: .endTurn
        }
    }
}

/// Turns OpenAI chunks into Kaiwa's model events. Tool calls arrive as deltas merged by
/// `index`: the first carries `id` and `name`, the rest carry argument fragments.
struct OpenAIStreamTranslator {
    private var toolIDs: [Int: String] = [:]
    private var open: [String] = []
    private(set) var stop: StopReason?
    private(set) var usage: TokenUsage?

    mutating func translate(_ completion: OpenAIWire.Completion) -> [ModelStreamEvent] {
        var events: [ModelStreamEvent] = []
        for choice in completion.choices ?? [] {
            let message = choice.delta ?? choice.message
            if let content = message?.content, !content.isEmpty { events.append(.textDelta(content)) }
            for (position, call) in (message?.toolCalls ?? []).enumerated() {
                let index = call.index ?? position
                if toolIDs[index] == nil {
                    let id = call.id ?? "call_\(index)"
                    toolIDs[index] = id
                    open.append(id)
                    events.append(.toolUseStart(id: id, name: call.function?.name ?? ""))
                }
                if let fragment = call.function?.arguments, !fragment.isEmpty, let id = toolIDs[index] {
                    events.append(.toolUseInputDelta(id: id, fragment: fragment))
                }
            }
            if let reason = choice.finishReason {
                events += closeToolCalls()
                stop = OpenAIWire.stopReason(reason)
            }
        }
        if let reported = completion.usage {
            usage = TokenUsage(inputTokens: reported.promptTokens, outputTokens: reported.completionTokens)
        }
        return events
    }

    /// Ends the tool calls still open.
    mutating func closeToolCalls() -> [ModelStreamEvent] {
        defer { open.removeAll() }
        return open.map { .toolUseEnd(id: $0) }
    }
}
