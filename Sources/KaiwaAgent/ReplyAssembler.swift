import Foundation
import KaiwaCore

/// Builds a reply's content blocks from a model's stream: text runs, and tool calls whose
/// input arrives as JSON fragments.
struct ReplyAssembler {
    private(set) var blocks: [ContentBlock] = []
    private var openToolUses: [String: (name: String, input: String)] = [:]

    /// The finished tool calls, in order.
    var toolCalls: [(id: String, name: String, input: JSONValue)] {
        blocks.compactMap { block in
            if case .toolUse(let id, let name, let input) = block { return (id, name, input) }
            return nil
        }
    }

    /// All the reply's text.
    var text: String { blocks.plainText }

    mutating func append(text delta: String) {
        if case .text(let existing) = blocks.last {
            blocks[blocks.count - 1] = .text(existing + delta)
        } else {
            blocks.append(.text(delta))
        }
    }

    mutating func startToolUse(id: String, name: String) {
        openToolUses[id] = (name, "")
    }

    mutating func appendToolInput(id: String, fragment: String) {
        openToolUses[id]?.input += fragment
    }

    /// Closes a tool call; its input must be a JSON object (empty input counts as `{}`).
    /// Throws `ModelError.unavailable` when the model sent input that is not JSON.
    mutating func endToolUse(id: String) throws -> (id: String, name: String, input: JSONValue)? {
        guard let open = openToolUses.removeValue(forKey: id) else { return nil }
        let raw = open.input.trimmingCharacters(in: .whitespacesAndNewlines)
        let input: JSONValue
        do {
            input = raw.isEmpty ? .object([:]) : try JSONDecoder().decode(JSONValue.self, from: Data(raw.utf8))
        } catch {
            throw ModelError(.unavailable, "tool call \(open.name) had input that is not JSON")
        }
        blocks.append(.toolUse(id: id, name: open.name, input: input))
        return (id, open.name, input)
    }
}
