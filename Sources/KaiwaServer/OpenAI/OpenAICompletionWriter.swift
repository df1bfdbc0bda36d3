import KaiwaCore

/// Writes OpenAI's `chat.completion` and `chat.completion.chunk` objects for one completion,
/// as JSON text (no `JSONEncoder`: a gateway writes many of them).
struct OpenAICompletionWriter {
    let id: String
    let created: Int
    /// The model named in every object: the one that answers.
    var model: String

    init(model: String, created: Int) {
        self.id = "chatcmpl-" + UUIDString.random().filter { $0 != "-" }
        self.created = created
        self.model = model
    }

    /// A tool call the model made, with its arguments as the JSON text it wrote.
    struct ToolCall {
        var id: String
        var name: String
        var arguments: String
    }

    static func finishReason(_ stop: StopReason?) -> String {
        switch stop {
        case .toolUse: "tool_calls"
        case .maxTokens: "length"
        case .endTurn, .stopSequence, nil: "stop"
        }
    }

    static func usageJSON(_ usage: TokenUsage?) -> String {
        let usage = usage ?? TokenUsage(inputTokens: 0, outputTokens: 0)
        return "{\"prompt_tokens\":\(usage.inputTokens),\"completion_tokens\":\(usage.outputTokens),\"total_tokens\":\(usage.inputTokens + usage.outputTokens)}"
    }

    /// The whole answer (`stream: false`).
    func completion(text: String, toolCalls: [ToolCall], stop: StopReason?, usage: TokenUsage?) -> String {
        var message = "{\"role\":\"assistant\",\"content\":" + (text.isEmpty && !toolCalls.isEmpty ? "null" : JSONText.quoted(text))
        if !toolCalls.isEmpty {
            message += ",\"tool_calls\":[" + toolCalls.map { call in
                "{\"id\":" + JSONText.quoted(call.id) + ",\"type\":\"function\",\"function\":{\"name\":" + JSONText.quoted(call.name)
                    + ",\"arguments\":" + JSONText.quoted(call.arguments) + "}}"
            }.joined(separator: ",") + "]"
        }
        message += "}"
        return header("chat.completion") + ",\"choices\":[{\"index\":0,\"message\":" + message + ",\"logprobs\":null,\"finish_reason\":"
            + JSONText.quoted(Self.finishReason(stop)) + "}],\"usage\":" + Self.usageJSON(usage) + "}"
    }

    // MARK: Streaming (`stream: true`), each as one Server-Sent Event.

    /// The first chunk: the assistant's role.
    var roleChunk: String { chunk(delta: "{\"role\":\"assistant\",\"content\":\"\"}") }

    func textChunk(_ text: String) -> String { chunk(delta: "{\"content\":" + JSONText.quoted(text) + "}") }

    func toolCallStartChunk(index: Int, id: String, name: String) -> String {
        chunk(
            delta: "{\"tool_calls\":[{\"index\":\(index),\"id\":" + JSONText.quoted(id) + ",\"type\":\"function\",\"function\":{\"name\":"
                + JSONText.quoted(name) + ",\"arguments\":\"\"}}]}"
        )
    }

    func toolCallArgumentsChunk(index: Int, fragment: String) -> String {
        chunk(delta: "{\"tool_calls\":[{\"index\":\(index),\"function\":{\"arguments\":" + JSONText.quoted(fragment) + "}}]}")
    }

    func finishChunk(_ stop: StopReason?) -> String {
        chunk(delta: "{}", finishReason: Self.finishReason(stop))
    }

    /// `stream_options.include_usage`: the last chunk, with no choices.
    func usageChunk(_ usage: TokenUsage?) -> String {
        "data: " + header("chat.completion.chunk") + ",\"choices\":[],\"usage\":" + Self.usageJSON(usage) + "}\n\n"
    }

    /// A failure after the stream began: OpenAI's SDKs raise it as an API error.
    static func errorEvent(_ error: KaiwaError) -> String {
        "data: {\"error\":" + OpenAIErrorBody.json(for: error) + "}\n\n"
    }

    static let done = "data: [DONE]\n\n"

    private func chunk(delta: String, finishReason: String? = nil) -> String {
        "data: " + header("chat.completion.chunk") + ",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"logprobs\":null,\"finish_reason\":"
            + (finishReason.map(JSONText.quoted) ?? "null") + "}]}\n\n"
    }

    private func header(_ object: String) -> String {
        "{\"id\":\"" + id + "\",\"object\":\"" + object + "\",\"created\":\(created),\"model\":" + JSONText.quoted(model)
            + ",\"system_fingerprint\":null"
    }
}
