import Foundation

/// What one subject may use. `0` means no limit.
public struct UsageLimits: Sendable, Hashable, Codable {
    /// Requests a minute (a token bucket: a burst of this many, refilled evenly over the minute).
    public var requestsPerMinute: Int
    /// Replies generated at once.
    public var concurrentReplies: Int
    /// Model tokens (input + output) a day, UTC.
    public var tokensPerDay: Int

    public init(requestsPerMinute: Int = 120, concurrentReplies: Int = 2, tokensPerDay: Int = 1_000_000) {
        self.requestsPerMinute = requestsPerMinute
        self.concurrentReplies = concurrentReplies
        self.tokensPerDay = tokensPerDay
    }

    enum CodingKeys: String, CodingKey {
        case requestsPerMinute = "requests_per_minute"
        case concurrentReplies = "concurrent_replies"
        case tokensPerDay = "tokens_per_day"
    }
}

/// Default limits and per-user overrides (`limits.path`):
/// `{"users": {"alice": {"tokens_per_day": 5000000}, "ci-bot": {"requests_per_minute": 600}}}`.
/// A user's entry replaces only the fields it names.
public struct LimitsCatalog: Sendable, Hashable {
    public var defaults: UsageLimits
    public var overrides: [String: Override]

    public struct Override: Sendable, Hashable, Decodable {
        public var requestsPerMinute: Int?
        public var concurrentReplies: Int?
        public var tokensPerDay: Int?

        enum CodingKeys: String, CodingKey {
            case requestsPerMinute = "requests_per_minute"
            case concurrentReplies = "concurrent_replies"
            case tokensPerDay = "tokens_per_day"
        }
    }

    public init(defaults: UsageLimits = .init(), overrides: [String: Override] = [:]) {
        self.defaults = defaults
        self.overrides = overrides
    }

    public func limits(for user: String) -> UsageLimits {
        guard let override = overrides[user] else { return defaults }
        var limits = defaults
        if let value = override.requestsPerMinute { limits.requestsPerMinute = value }
        if let value = override.concurrentReplies { limits.concurrentReplies = value }
        if let value = override.tokensPerDay { limits.tokensPerDay = value }
        return limits
    }

    /// Reads the overrides file; the message names the file and what is wrong with it.
    public static func load(path: String, defaults: UsageLimits) throws -> LimitsCatalog {
        struct File: Decodable { var users: [String: Override] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LimitsFileError("The limits file \(path) cannot be read.")
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw LimitsFileError("The limits file \(path) is not {\"users\": {\"<user>\": {\"requests_per_minute\"?, \"concurrent_replies\"?, \"tokens_per_day\"?}}}.")
        }
        for (user, override) in file.users {
            for value in [override.requestsPerMinute, override.concurrentReplies, override.tokensPerDay].compactMap({ $0 }) where value < 0 {
                throw LimitsFileError("The limits file \(path) gives \(user) a negative limit.")
            }
        }
        return LimitsCatalog(defaults: defaults, overrides: file.users)
    }
}

public struct LimitsFileError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
