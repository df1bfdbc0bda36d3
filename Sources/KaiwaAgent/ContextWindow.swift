import KaiwaCore

/// Chooses the part of a conversation the model sees: the most recent messages that fit the
/// budget, never starting with a tool result whose call was cut off, and starting with a
/// user message. The whole history stays stored; only the model's view is trimmed.
enum ContextWindow {
    /// A rough token count: about four characters per token, plus a little per message.
    static func estimatedTokens(_ message: ChatMessage) -> Int {
        let characters = message.content.reduce(0) { total, block in
            switch block {
            case .text(let text): total + text.count
            case .toolUse(_, let name, let input): total + name.count + JSONText.encode(input).count
            case .toolResult(_, _, let content): total + content.count
            // An image costs models about 1,600 tokens; a document about its size in characters.
            case .attachment(let file): total + (file.kind == .image ? 6_400 : file.size)
            }
        }
        return characters / 4 + 4
    }

    static func select(_ messages: [ChatMessage], budgetTokens: Int, maxMessages: Int) -> [ChatMessage] {
        var chosen: [ChatMessage] = []
        var used = 0
        for message in messages.reversed() {
            let cost = estimatedTokens(message)
            if !chosen.isEmpty && (used + cost > budgetTokens || chosen.count >= maxMessages) { break }
            chosen.append(message)
            used += cost
        }
        var window = Array(chosen.reversed())
        while let first = window.first, first.role != .user || first.content.contains(where: \.isToolResult) {
            window.removeFirst()
        }
        // Never drop the newest message, even when it alone is over the budget.
        if window.isEmpty, let last = messages.last { window = [last] }
        return window
    }
}

extension ContentBlock {
    var isToolResult: Bool {
        if case .toolResult = self { return true }
        return false
    }
}
