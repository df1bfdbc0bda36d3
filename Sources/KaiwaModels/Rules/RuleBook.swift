import Foundation

/// The keyword rules of the offline `rules` model (seed 000): the first rule whose keyword
/// appears in the message answers; otherwise the fallback does, with `{message}` replaced by
/// the user's message.
public struct RuleBook: Sendable, Hashable, Codable {
    public struct Rule: Sendable, Hashable, Codable {
        /// The rule applies when the message contains any of these (case-sensitive).
        public var keywords: [String]
        public var reply: String

        public init(keywords: [String], reply: String) {
            self.keywords = keywords
            self.reply = reply
        }
    }

    public var rules: [Rule]
    public var fallback: String

    public init(rules: [Rule], fallback: String) {
        self.rules = rules
        self.fallback = fallback
    }

    /// The reply to `message`.
    public func reply(to message: String) -> String {
        for rule in rules where rule.keywords.contains(where: { message.contains($0) }) {
            return rule.reply
        }
        return fallback.replacingOccurrences(of: "{message}", with: message)
    }

    /// Seed 000's bot, reply for reply.
    public static let bundled = RuleBook(
        rules: [
            Rule(keywords: ["こんにちは"], reply: "こんにちは！何かお手伝いできることはありますか？"),
            Rule(keywords: ["ありがとう"], reply: "どういたしまして！"),
            Rule(keywords: ["天気"], reply: "今日の天気は晴れです！"),
        ],
        fallback: "「{message}」についてですね。申し訳ありません、まだそのトピックについては学習していません。"
    )
}

/// A rules file that cannot be used. The description names the file and what is wrong, so
/// that start-up can stop with it.
public struct RuleBookError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var problem: String
    public var description: String { "Rules file \(path) cannot be used: \(problem)" }
}

extension RuleBook {
    /// Reads and checks a rules file:
    /// `{"rules": [{"keywords": ["…"], "reply": "…"}, …], "fallback": "…{message}…"}`.
    public static func load(path: String) throws(RuleBookError) -> RuleBook {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RuleBookError(path: path, problem: "it cannot be read (\(error.localizedDescription))")
        }
        return try parse(data, path: path)
    }

    static func parse(_ data: Data, path: String) throws(RuleBookError) -> RuleBook {
        let book: RuleBook
        do {
            book = try JSONDecoder().decode(RuleBook.self, from: data)
        } catch let error as DecodingError {
            throw RuleBookError(path: path, problem: error.readableDescription)
        } catch {
            throw RuleBookError(path: path, problem: "it is not valid JSON")
        }
        for (index, rule) in book.rules.enumerated() {
            let position = "rule \(index + 1)"
            if rule.keywords.isEmpty || rule.keywords.contains(where: \.isEmpty) {
                throw RuleBookError(path: path, problem: "\(position) needs at least one non-empty keyword")
            }
            if rule.reply.isEmpty {
                throw RuleBookError(path: path, problem: "\(position) has an empty reply")
            }
        }
        if book.fallback.isEmpty {
            throw RuleBookError(path: path, problem: "the fallback reply is empty")
        }
        return book
    }
}

extension DecodingError {
    /// One sentence saying where in a JSON document decoding failed and why.
    var readableDescription: String {
        func path(_ context: Context) -> String {
            let keys = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return keys.isEmpty ? "the top level" : String(keys.drop { $0 == "." })
        }
        switch self {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "the top level" : path(context)
            return "\"\(key.stringValue)\" is missing at \(parent)"
        case .typeMismatch(let type, let context):
            return "\(path(context)) should be \(Self.typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context)) should be \(Self.typeName(type)), not null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "it is not valid JSON" : "\(path(context)) is invalid"
        @unknown default:
            return "it does not have the expected shape"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is [String].Type: "a list of strings"
        case is Int.Type, is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: type is any Collection.Type ? "a list" : "an object"
        }
    }
}
