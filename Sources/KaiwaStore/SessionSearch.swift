import Foundation
import KaiwaCore

/// A conversation a search found, with the text around the first match.
public struct SessionSearchHit: Sendable, Hashable {
    public var session: SessionRecord
    /// About 120 characters around the match, `…` where cut: from the title when the title
    /// matched, else from the first message that did.
    public var snippet: String

    public init(session: SessionRecord, snippet: String) {
        self.session = session
        self.snippet = snippet
    }
}

/// What every store does alike for search: the query's limits, the match rule (a
/// case-insensitive substring, so that Japanese without spaces is found) and the snippet.
public enum SessionSearch {
    /// Queries are 1 to 200 characters.
    public static let maxQueryLength = 200

    /// Whether `text` contains `query`, ignoring case and width (ａ = a).
    public static func matches(_ text: String, _ query: String) -> Bool {
        text.range(of: query, options: [.caseInsensitive, .widthInsensitive]) != nil
    }

    /// Up to `before` characters before the first match and `after` from it on, on one line.
    public static func snippet(of text: String, around query: String, before: Int = 40, after: Int = 80) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        guard let match = flat.range(of: query, options: [.caseInsensitive, .widthInsensitive]) else {
            return flat.count > before + after ? String(flat.prefix(before + after)) + "…" : flat
        }
        let start = flat.index(match.lowerBound, offsetBy: -before, limitedBy: flat.startIndex) ?? flat.startIndex
        let end = flat.index(match.lowerBound, offsetBy: after, limitedBy: flat.endIndex) ?? flat.endIndex
        return (start > flat.startIndex ? "…" : "") + flat[start..<end] + (end < flat.endIndex ? "…" : "")
    }
}
