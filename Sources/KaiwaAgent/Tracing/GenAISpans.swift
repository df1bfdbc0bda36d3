import KaiwaCore
import Tracing

/// Spans of a reply in OpenTelemetry's GenAI semantic conventions: `invoke_agent {agent}` for
/// the reply, `chat {model}` for each model call and `execute_tool {tool}` for each tool call,
/// nested in that order. They go nowhere until the process bootstraps a tracer (`kaiwa serve`
/// does when an OTLP endpoint is configured); without one each costs a no-op span.
enum GenAISpans {
    static func invokeAgent<T>(
        agent: String, session: SessionID, reply: String, context: ServiceContext, _ body: (any Span) async throws -> T
    ) async rethrows -> T {
        try await withSpan("invoke_agent \(agent)", context: context, ofKind: .internal) { span in
            span.attributes["gen_ai.operation.name"] = "invoke_agent"
            span.attributes["gen_ai.agent.name"] = agent
            span.attributes["gen_ai.conversation.id"] = session.rawValue
            span.attributes["kaiwa.reply.id"] = reply
            return try await body(span)
        }
    }

    /// A model call; `usage` and the finish reason are added by the caller as they arrive.
    static func chat<T>(model: String, _ body: (any Span) async throws -> T) async rethrows -> T {
        try await withSpan("chat \(model)", ofKind: .client) { span in
            let (provider, name) = parts(of: model)
            span.attributes["gen_ai.operation.name"] = "chat"
            span.attributes["gen_ai.request.model"] = name
            span.attributes["gen_ai.provider.name"] = provider
            return try await body(span)
        }
    }

    static func executeTool<T>(name: String, callID: String, _ body: (any Span) async throws -> T) async rethrows -> T {
        try await withSpan("execute_tool \(name)", ofKind: .internal) { span in
            span.attributes["gen_ai.operation.name"] = "execute_tool"
            span.attributes["gen_ai.tool.name"] = name
            span.attributes["gen_ai.tool.call.id"] = callID
            return try await body(span)
        }
    }

    static func record(_ usage: TokenUsage, on span: any Span) {
        span.attributes["gen_ai.usage.input_tokens"] = usage.inputTokens
        span.attributes["gen_ai.usage.output_tokens"] = usage.outputTokens
    }

    /// `gen_ai.provider.name` and the model's own name, from a model id as Kaiwa spells them:
    /// `bedrock:amazon.nova-micro-v1:0`, `openai:gpt-4o-mini`, `rules`.
    static func parts(of model: String) -> (provider: String, model: String) {
        guard let colon = model.firstIndex(of: ":") else { return ("kaiwa", model) }
        let name = String(model[model.index(after: colon)...])
        switch model[..<colon] {
        case "bedrock": return ("aws.bedrock", name)
        case "openai": return ("openai", name)
        default: return ("kaiwa", model)
        }
    }
}
