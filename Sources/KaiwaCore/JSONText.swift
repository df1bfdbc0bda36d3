import Foundation

/// Fast JSON text for the hot path: every streamed event is serialized once per follower,
/// tens of thousands of times a second under load, where `JSONEncoder` costs too much.
public enum JSONText {
    /// `value` as a JSON string literal, quotes included.
    public static func quoted(_ value: String) -> String {
        write { $0.string(value) }
    }

    /// `value` as JSON text.
    public static func encode(_ value: JSONValue) -> String {
        write { $0.value(value) }
    }

    /// Content blocks as JSON text: the same as their `Codable` form.
    public static func encode(_ blocks: [ContentBlock]) -> String {
        write { $0.blocks(blocks) }
    }

    /// `date` as `2026-12-04T08:15:30.123Z` (see `JSONWriter.iso8601`), without quotes.
    public static func iso8601(_ date: Date) -> String {
        var writer = JSONWriter(capacity: 26)
        writer.iso8601(date)
        return String(decoding: writer.bytes.dropFirst().dropLast(), as: UTF8.self)
    }

    private static func write(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        body(&writer)
        return writer.text
    }
}

extension SequencedChatEvent {
    /// The event as one line of JSON, `{"type": …, "seq": …, …}`: the same object as its
    /// `Encodable` form, written without `JSONEncoder`.
    public var jsonText: String {
        var writer = JSONWriter()
        write(into: &writer)
        return writer.text
    }

    public func write(into writer: inout JSONWriter) {
        writer.raw("{\"type\":")
        writer.string(event.type)
        writer.raw(",\"seq\":")
        writer.integer(sequence)
        switch event {
        case .session(let id):
            writer.raw(",\"session_id\":")
            writer.string(id)
        case .delta(let text):
            writer.raw(",\"text\":")
            writer.string(text)
        case .toolCall(let id, let name, let input):
            writer.raw(",\"id\":")
            writer.string(id)
            writer.raw(",\"name\":")
            writer.string(name)
            writer.raw(",\"input\":")
            writer.value(input)
        case .toolResult(let id, let ok, let summary):
            writer.raw(",\"id\":")
            writer.string(id)
            writer.raw(",\"ok\":")
            writer.bool(ok)
            writer.raw(",\"summary\":")
            writer.string(summary)
        case .usage(let usage):
            writer.raw(",\"input_tokens\":")
            writer.integer(usage.inputTokens)
            writer.raw(",\"output_tokens\":")
            writer.integer(usage.outputTokens)
        case .done(let messageID, let response, let stopped, let model, let costUSD):
            writer.raw(",\"message_id\":")
            writer.string(messageID)
            writer.raw(",\"response\":")
            writer.string(response)
            writer.raw(",\"stopped\":")
            writer.bool(stopped)
            if let model {
                writer.raw(",\"model\":")
                writer.string(model)
            }
            if let costUSD {
                writer.raw(",\"cost_usd\":")
                writer.number(costUSD)
            }
        case .error(let code, let message):
            writer.raw(",\"error\":")
            writer.string(code)
            writer.raw(",\"message\":")
            writer.string(message)
        }
        writer.raw("}")
    }
}
