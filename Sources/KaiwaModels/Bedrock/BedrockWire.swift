import Foundation
import KaiwaCore

/// The JSON of Bedrock Runtime's Converse and ConverseStream, as far as Kaiwa uses it.
enum BedrockWire {
    static func body(for request: ModelRequest) -> JSONValue {
        var body: [String: JSONValue] = ["messages": .array(request.messages.map { encode($0, attachmentData: request.attachmentData) })]
        if let system = request.system { body["system"] = .array([.object(["text": .string(system)])]) }
        var inference: [String: JSONValue] = [:]
        if let maxTokens = request.maxTokens { inference["maxTokens"] = .number(Double(maxTokens)) }
        if let temperature = request.temperature { inference["temperature"] = .number(temperature) }
        if let topP = request.topP { inference["topP"] = .number(topP) }
        if !request.stopSequences.isEmpty { inference["stopSequences"] = .array(request.stopSequences.map(JSONValue.string)) }
        if !inference.isEmpty { body["inferenceConfig"] = .object(inference) }
        if !request.tools.isEmpty, request.toolChoice != .none || request.messages.contains(where: \.hasToolBlocks) {
            // Converse has no "none": without tool calls in the history the tools are left out
            // instead; with them, Converse needs the tools declared, and the model decides.
            var config: [String: JSONValue] = [
                "tools": .array(
                    request.tools.map { tool in
                        .object([
                            "toolSpec": .object([
                                "name": .string(tool.name), "description": .string(tool.description),
                                "inputSchema": .object(["json": tool.inputSchema]),
                            ])
                        ])
                    }
                )
            ]
            switch request.toolChoice {
            case .auto, .none: break
            case .required: config["toolChoice"] = .object(["any": .object([:])])
            case .tool(let name): config["toolChoice"] = .object(["tool": .object(["name": .string(name)])])
            }
            body["toolConfig"] = .object(config)
        }
        return .object(body)
    }

    static func encode(_ message: ChatMessage, attachmentData: [String: Data] = [:]) -> JSONValue {
        let content: [JSONValue] = message.content.map { block in
            switch block {
            case .attachment(let file):
                attachment(file, data: attachmentData[file.id])
            case .text(let text):
                .object(["text": .string(text)])
            case .toolUse(let id, let name, let input):
                .object(["toolUse": .object(["toolUseId": .string(id), "name": .string(name), "input": input])])
            case .toolResult(let id, let isError, let text):
                .object([
                    "toolResult": .object([
                        "toolUseId": .string(id), "content": .array([.object(["text": .string(text)])]),
                        "status": .string(isError ? "error" : "success"),
                    ])
                ])
            }
        }
        return .object(["role": .string(message.role.rawValue), "content": .array(content)])
    }

    /// An `image` or `document` block with the file's bytes (base64 in Converse's JSON); a
    /// line of text when the bytes are gone (retention removed them).
    static func attachment(_ file: Attachment, data: Data?) -> JSONValue {
        guard let data, let format = Attachment.formats[file.mediaType] else {
            return .object(["text": .string("[\(file.name): the attached file is no longer available]")])
        }
        let source: JSONValue = .object(["bytes": .string(data.base64EncodedString())])
        if file.kind == .image { return .object(["image": .object(["format": .string(format), "source": source])]) }
        return .object(["document": .object(["format": .string(format), "name": .string(documentName(file.name)), "source": source])])
    }

    /// Converse takes document names of letters, digits, single spaces, hyphens, parentheses
    /// and square brackets; anything else becomes a space.
    static func documentName(_ name: String) -> String {
        let stem = name.split(separator: ".").dropLast().joined(separator: ".")
        let allowed = (stem.isEmpty ? name : stem).map { character -> Character in
            character.isLetter || character.isNumber || "-()[]".contains(character) ? character : " "
        }
        let words = String(allowed).split(separator: " ")
        return words.isEmpty ? "document" : String(words.joined(separator: " ").prefix(200))
    }

    static func stopReason(_ raw: String) -> StopReason {
        switch raw {
        case "tool_use": .toolUse
        case "max_tokens": .maxTokens
        case "stop_sequence": .stopSequence
        default: .endTurn
        }
    }

    /// The payloads of ConverseStream's events.
    struct StreamPayload: Decodable {
        struct Start: Decodable {
            struct ToolUse: Decodable {
                var toolUseId: String
                var name: String
            }
            var toolUse: ToolUse?
        }
        struct Delta: Decodable {
            struct ToolUse: Decodable { var input: String? }
            var text: String?
            var toolUse: ToolUse?
        }
        struct Usage: Decodable {
            var inputTokens: Int
            var outputTokens: Int
        }
        var contentBlockIndex: Int?
        var start: Start?
        var delta: Delta?
        var stopReason: String?
        var usage: Usage?
        var message: String?
        var Message: String?
    }

    /// Converse's whole answer.
    struct ConverseAnswer: Decodable {
        struct Output: Decodable {
            struct Message: Decodable {
                struct Block: Decodable {
                    struct ToolUse: Decodable {
                        var toolUseId: String
                        var name: String
                        var input: JSONValue
                    }
                    var text: String?
                    var toolUse: ToolUse?
                }
                var content: [Block]
            }
            var message: Message
        }
        var output: Output
        var stopReason: String?
        var usage: StreamPayload.Usage?
    }
}

/// Turns ConverseStream's events into Kaiwa's model events, keeping track of which content
/// block is a tool call.
struct BedrockStreamTranslator {
    private var toolBlocks: [Int: String] = [:]
    private(set) var stopped = false

    mutating func translate(eventType: String, payload: BedrockWire.StreamPayload) -> [ModelStreamEvent] {
        let index = payload.contentBlockIndex ?? 0
        switch eventType {
        case "contentBlockStart":
            guard let toolUse = payload.start?.toolUse else { return [] }
            toolBlocks[index] = toolUse.toolUseId
            return [.toolUseStart(id: toolUse.toolUseId, name: toolUse.name)]
        case "contentBlockDelta":
            if let text = payload.delta?.text, !text.isEmpty { return [.textDelta(text)] }
            if let fragment = payload.delta?.toolUse?.input, let id = toolBlocks[index] {
                return [.toolUseInputDelta(id: id, fragment: fragment)]
            }
            return []
        case "contentBlockStop":
            guard let id = toolBlocks.removeValue(forKey: index) else { return [] }
            return [.toolUseEnd(id: id)]
        case "messageStop":
            stopped = true
            let closing = toolBlocks.values.sorted().map { ModelStreamEvent.toolUseEnd(id: $0) }
            toolBlocks.removeAll()
            return closing + [.stop(BedrockWire.stopReason(payload.stopReason ?? "end_turn"))]
        case "metadata":
            guard let usage = payload.usage else { return [] }
            return [.usage(TokenUsage(inputTokens: usage.inputTokens, outputTokens: usage.outputTokens))]
        default:
            return []
        }
    }
}
