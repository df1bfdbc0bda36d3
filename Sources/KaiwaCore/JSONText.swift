/// Fast JSON text for the hot path: every streamed event is serialized once per follower,
/// tens of thousands of times a second under load, where `JSONEncoder` costs too much.
public enum JSONText {
    /// `value` as a JSON string literal, quotes included.
    public static func quoted(_ value: String) -> String {
        if !needsEscaping(value) { return "\"" + value + "\"" }
        var output = "\""
        output.reserveCapacity(value.utf8.count + 2)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{2028}": output += "\\u2028"
            case "\u{2029}": output += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
        return output
    }

    /// Whether `value` has a character JSON text must escape: a control character, a quote,
    /// a backslash, or U+2028/U+2029 (which some JavaScript parsers take for line ends).
    private static func needsEscaping(_ value: String) -> Bool {
        var utf8 = value.utf8.makeIterator()
        while let byte = utf8.next() {
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return true }
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
            if byte == 0xE2 { return true }
        }
        return false
    }

    /// `value` as JSON text.
    public static func encode(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let bool): return bool ? "true" : "false"
        case .number(let number):
            guard number.isFinite else { return "null" }
            if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
            return String(number)
        case .string(let string): return quoted(string)
        case .array(let items): return "[" + items.map(encode).joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.sorted { $0.key < $1.key }.map { quoted($0.key) + ":" + encode($0.value) }.joined(separator: ",") + "}"
        }
    }
}

extension JSONText {
    /// Content blocks as JSON text: the same as their `Codable` form.
    public static func encode(_ blocks: [ContentBlock]) -> String {
        "[" + blocks.map { block in
            switch block {
            case .text(let text):
                "{\"type\":\"text\",\"text\":" + quoted(text) + "}"
            case .toolUse(let id, let name, let input):
                "{\"type\":\"tool_use\",\"id\":" + quoted(id) + ",\"name\":" + quoted(name) + ",\"input\":" + encode(input) + "}"
            case .toolResult(let id, let isError, let content):
                "{\"type\":\"tool_result\",\"tool_use_id\":" + quoted(id) + ",\"is_error\":\(isError),\"content\":" + quoted(content) + "}"
            case .attachment(let file):
                "{\"type\":\"attachment\",\"attachment\":{\"id\":" + quoted(file.id) + ",\"media_type\":" + quoted(file.mediaType)
                    + ",\"name\":" + quoted(file.name) + ",\"size\":\(file.size)}}"
            }
        }.joined(separator: ",") + "]"
    }
}

extension SequencedChatEvent {
    /// The event as one line of JSON, `{"type": …, "seq": …, …}`: the same object as its
    /// `Encodable` form, written without `JSONEncoder`.
    public var jsonText: String {
        var fields = ["\"type\":" + JSONText.quoted(event.type), "\"seq\":\(sequence)"]
        switch event {
        case .session(let id):
            fields.append("\"session_id\":" + JSONText.quoted(id))
        case .delta(let text):
            fields.append("\"text\":" + JSONText.quoted(text))
        case .toolCall(let id, let name, let input):
            fields += ["\"id\":" + JSONText.quoted(id), "\"name\":" + JSONText.quoted(name), "\"input\":" + JSONText.encode(input)]
        case .toolResult(let id, let ok, let summary):
            fields += ["\"id\":" + JSONText.quoted(id), "\"ok\":\(ok)", "\"summary\":" + JSONText.quoted(summary)]
        case .usage(let usage):
            fields += ["\"input_tokens\":\(usage.inputTokens)", "\"output_tokens\":\(usage.outputTokens)"]
        case .done(let messageID, let response, let stopped, let model, let costUSD):
            fields += ["\"message_id\":" + JSONText.quoted(messageID), "\"response\":" + JSONText.quoted(response), "\"stopped\":\(stopped)"]
            if let model { fields.append("\"model\":" + JSONText.quoted(model)) }
            if let costUSD { fields.append("\"cost_usd\":" + JSONText.encode(.number(costUSD))) }
        case .error(let code, let message):
            fields += ["\"error\":" + JSONText.quoted(code), "\"message\":" + JSONText.quoted(message)]
        }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
