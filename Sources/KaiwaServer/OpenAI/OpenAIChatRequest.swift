import Foundation
import KaiwaCore

/// The body of OpenAI's `POST /v1/chat/completions`, as far as Kaiwa serves it. Fields
/// Kaiwa does not use (`seed`, `logprobs`, …) are ignored, as OpenAI-compatible servers do.
struct OpenAIChatRequest: Decodable {
    var model: String
    var messages: [Message]
    var stream: Bool?
    var streamOptions: StreamOptions?
    var tools: [Tool]?
    var toolChoice: ToolChoiceValue?
    var temperature: Double?
    var topP: Double?
    var maxTokens: Int?
    var maxCompletionTokens: Int?
    var stop: Stop?
    var user: String?
    var n: Int?

    enum CodingKeys: String, CodingKey {
        case model, messages, stream, tools, temperature, stop, user, n
        case streamOptions = "stream_options"
        case toolChoice = "tool_choice"
        case topP = "top_p"
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
    }

    struct StreamOptions: Decodable {
        var includeUsage: Bool?
        enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }

    struct Message: Decodable {
        var role: String
        var content: Content?
        var toolCalls: [ToolCall]?
        var toolCallID: String?
        enum CodingKeys: String, CodingKey {
            case role, content
            case toolCalls = "tool_calls"
            case toolCallID = "tool_call_id"
        }
    }

    /// A message's content: a string, or a list of parts (`{"type": "text", "text": …}`, …).
    enum Content: Decodable {
        case text(String)
        case parts([Part])

        struct Part: Decodable {
            var type: String
            var text: String?
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .parts(try container.decode([Part].self))
            }
        }
    }

    struct ToolCall: Decodable {
        struct Function: Decodable {
            var name: String
            var arguments: String
        }
        var id: String
        var type: String?
        var function: Function
    }

    struct Tool: Decodable {
        struct Function: Decodable {
            var name: String
            var description: String?
            var parameters: JSONValue?
        }
        var type: String
        var function: Function
    }

    /// `"none"`, `"auto"`, `"required"` or `{"type": "function", "function": {"name": …}}`.
    enum ToolChoiceValue: Decodable {
        case mode(String)
        case function(String)

        private struct Named: Decodable {
            struct Function: Decodable { var name: String }
            var function: Function
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let mode = try? container.decode(String.self) {
                self = .mode(mode)
            } else {
                self = .function(try container.decode(Named.self).function.name)
            }
        }
    }

    /// `stop`: one string or a list of them.
    struct Stop: Decodable {
        var sequences: [String]
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) {
                sequences = [one]
            } else {
                sequences = try container.decode([String].self)
            }
        }
    }

    /// Whether the client asked for a stream.
    var isStreaming: Bool { stream ?? false }

    /// The model call this body asks for, after checking every field a model would choke on.
    func modelRequest() throws(KaiwaError) -> ModelRequest {
        guard n == nil || n == 1 else { throw invalid("Only one choice can be generated (`n` must be 1).", "n") }
        if let temperature, !(0...2).contains(temperature) { throw invalid("`temperature` must be between 0 and 2.", "temperature") }
        if let topP, !(0...1).contains(topP) { throw invalid("`top_p` must be between 0 and 1.", "top_p") }
        let maxTokens = maxCompletionTokens ?? self.maxTokens
        if let maxTokens, maxTokens < 1 {
            throw invalid("`max_tokens` must be at least 1.", maxCompletionTokens == nil ? "max_tokens" : "max_completion_tokens")
        }
        let stops = stop?.sequences ?? []
        guard stops.count <= 4, stops.allSatisfy({ !$0.isEmpty }) else { throw invalid("`stop` takes up to 4 non-empty strings.", "stop") }
        let tools = try toolSpecs()
        let (system, messages) = try conversation()
        return ModelRequest(
            system: system, messages: messages, tools: tools, maxTokens: maxTokens, temperature: temperature, topP: topP,
            stopSequences: stops, toolChoice: try choice(among: tools)
        )
    }

    private func toolSpecs() throws(KaiwaError) -> [ToolSpec] {
        var names = Set<String>()
        var specs: [ToolSpec] = []
        for (index, tool) in (tools ?? []).enumerated() {
            guard tool.type == "function" else { throw invalid("Only tools of type `function` are supported.", "tools[\(index)].type") }
            let name = tool.function.name
            guard (1...64).contains(name.utf8.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw invalid("A tool name must be 1 to 64 letters, digits, _ or -.", "tools[\(index)].function.name")
            }
            guard names.insert(name).inserted else { throw invalid("Tool \(name) is listed twice.", "tools[\(index)].function.name") }
            let parameters = tool.function.parameters ?? .object(["type": .string("object"), "properties": .object([:])])
            guard case .object = parameters else { throw invalid("A tool's `parameters` must be a JSON schema object.", "tools[\(index)].function.parameters") }
            specs.append(ToolSpec(name: name, description: tool.function.description ?? "", inputSchema: parameters))
        }
        return specs
    }

    private func choice(among tools: [ToolSpec]) throws(KaiwaError) -> ToolChoice {
        switch toolChoice {
        case nil, .mode("auto"): return .auto
        case .mode("none"): return .none
        case .mode("required"):
            guard !tools.isEmpty else { throw invalid("`tool_choice` is `required` but no `tools` are given.", "tool_choice") }
            return .required
        case .mode(let other): throw invalid("`tool_choice` must be none, auto, required or a function; not \(other).", "tool_choice")
        case .function(let name):
            guard tools.contains(where: { $0.name == name }) else { throw invalid("`tool_choice` names \(name), which is not in `tools`.", "tool_choice") }
            return .tool(name)
        }
    }

    /// The system text (system and developer messages) and the conversation in Kaiwa's form:
    /// tool results become blocks of a user message, and consecutive messages of one role
    /// are merged (Bedrock needs the roles to alternate).
    private func conversation() throws(KaiwaError) -> (system: String?, messages: [ChatMessage]) {
        guard !messages.isEmpty else { throw invalid("`messages` must not be empty.", "messages") }
        var system: [String] = []
        var conversation: [ChatMessage] = []
        var pendingToolCalls = Set<String>()
        func append(_ role: Role, _ blocks: [ContentBlock]) {
            guard !blocks.isEmpty else { return }
            if conversation.last?.role == role {
                conversation[conversation.count - 1].content += blocks
            } else {
                conversation.append(ChatMessage(role: role, content: blocks))
            }
        }
        for (index, message) in messages.enumerated() {
            let field = "messages[\(index)]"
            switch message.role {
            case "system", "developer":
                system.append(try text(of: message.content, field: field))
            case "user":
                let text = try text(of: message.content, field: field)
                guard !text.isEmpty else { throw invalid("A user message must have content.", "\(field).content") }
                append(.user, [.text(text)])
            case "assistant":
                var blocks: [ContentBlock] = []
                let text = try text(of: message.content, field: field)
                if !text.isEmpty { blocks.append(.text(text)) }
                pendingToolCalls = []
                for (callIndex, call) in (message.toolCalls ?? []).enumerated() {
                    let input = try? JSONDecoder().decode(JSONValue.self, from: Data(call.function.arguments.utf8))
                    guard let input, case .object = input else {
                        throw invalid("A tool call's `arguments` must be a JSON object in a string.", "\(field).tool_calls[\(callIndex)].function.arguments")
                    }
                    blocks.append(.toolUse(id: call.id, name: call.function.name, input: input))
                    pendingToolCalls.insert(call.id)
                }
                guard !blocks.isEmpty else { throw invalid("An assistant message must have content or tool calls.", "\(field).content") }
                append(.assistant, blocks)
            case "tool":
                guard let id = message.toolCallID else { throw invalid("A tool message needs `tool_call_id`.", "\(field).tool_call_id") }
                guard pendingToolCalls.remove(id) != nil else {
                    throw invalid("`tool_call_id` \(id) does not answer a tool call of the assistant message before it.", "\(field).tool_call_id")
                }
                append(.user, [.toolResult(toolUseID: id, isError: false, content: try text(of: message.content, field: field))])
            default:
                throw invalid("A message's role must be system, developer, user, assistant or tool; not \(message.role).", "\(field).role")
            }
        }
        guard !conversation.isEmpty else { throw invalid("`messages` needs at least one user message.", "messages") }
        return (system.isEmpty ? nil : system.joined(separator: "\n\n"), conversation)
    }

    /// The text of a content: the string, or its text parts joined. Kaiwa's models read
    /// text only, so any other part (an image, audio, a file) is refused.
    private func text(of content: Content?, field: String) throws(KaiwaError) -> String {
        switch content {
        case nil: return ""
        case .text(let text): return text
        case .parts(let parts):
            var text = ""
            for (index, part) in parts.enumerated() {
                guard part.type == "text", let partText = part.text else {
                    throw invalid("Content parts of type \(part.type) are not supported by this model; send text.", "\(field).content[\(index)]")
                }
                text += partText
            }
            return text
        }
    }

    private func invalid(_ message: String, _ parameter: String) -> KaiwaError {
        KaiwaError(.badRequest, message, parameter: parameter)
    }
}
