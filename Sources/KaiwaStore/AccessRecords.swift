import Foundation
import KaiwaCore

/// An API key as stored: never the key itself, only its SHA-256 hash.
public struct APIKeyRecord: Sendable, Hashable {
    /// The key's public id: the first 16 hex digits of its hash (what `kaiwa keys revoke` takes).
    public var id: String
    /// The SHA-256 of the whole key, in lower-case hex.
    public var hash: String
    /// The key's first characters (`kw_AbC1`), to recognise it in lists.
    public var prefix: String
    /// The subject id the key signs in as.
    public var user: String
    /// A label its owner chose (`laptop`, `ci`).
    public var name: String?
    public var createdAt: Date
    /// When the key last signed a request in; updated at most once a minute.
    public var lastUsedAt: Date?
    /// After this the key is refused; `nil` never expires.
    public var expiresAt: Date?
    /// When the key was revoked; a revoked key is refused.
    public var revokedAt: Date?

    public init(
        id: String, hash: String, prefix: String, user: String, name: String? = nil, createdAt: Date,
        lastUsedAt: Date? = nil, expiresAt: Date? = nil, revokedAt: Date? = nil
    ) {
        self.id = id
        self.hash = hash
        self.prefix = prefix
        self.user = user
        self.name = name
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Whether the key may sign a request in at `now`.
    public func isUsable(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }
}

/// A single-use WebSocket ticket (browsers cannot put headers on a WebSocket): bound to the
/// subject that asked for it, valid for a few seconds.
public struct TicketRecord: Sendable, Hashable {
    /// The SHA-256 of the ticket, in lower-case hex; the ticket itself is not stored.
    public var hash: String
    public var subject: Subject
    public var expiresAt: Date

    public init(hash: String, subject: Subject, expiresAt: Date) {
        self.hash = hash
        self.subject = subject
        self.expiresAt = expiresAt
    }
}

/// A subject as stored with a ticket: `{"id", "name", "method"}`.
public enum SubjectJSON {
    public static func encode(_ subject: Subject) throws -> String {
        let object = ["id": subject.id, "name": subject.name, "method": subject.method.rawValue]
        let data = try JSONSerialization.data(withJSONObject: object, options: .sortedKeys)
        return String(decoding: data, as: UTF8.self)
    }

    public static func decode(_ text: String) throws -> Subject {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String], let id = object["id"],
            let name = object["name"], let method = object["method"].flatMap(Subject.Method.init(rawValue:))
        else { throw StoreCorruption(row: "ticket", problem: "its subject is not {id, name, method}") }
        return Subject(id: id, name: name, method: method)
    }
}

/// A token bucket's verdict.
public enum BucketDecision: Sendable, Hashable {
    case allowed
    /// No token is left; one will be in `retryAfter` seconds.
    case denied(retryAfter: TimeInterval)
}

/// What authentication and limits keep: API keys, WebSocket tickets, rate-limit buckets,
/// usage counters and concurrency slots. Part of every `ChatStore`, so limits hold across
/// instances that share a store (DynamoDB) as they do on one machine.
public protocol AccessStore: Sendable {
    /// Stores a new API key (its id is unique; storing one with an existing id fails).
    func saveAPIKey(_ key: APIKeyRecord) async throws
    /// The key with this id, revoked or not.
    func apiKey(id: String) async throws -> APIKeyRecord?
    /// Keys, newest first; only `user`'s when given.
    func apiKeys(user: String?) async throws -> [APIKeyRecord]
    /// Marks the key revoked at `at`; `false` when there is no such key.
    func revokeAPIKey(id: String, at: Date) async throws -> Bool
    /// Records that the key signed a request in at `at`.
    func touchAPIKey(id: String, at: Date) async throws

    func saveTicket(_ ticket: TicketRecord) async throws
    /// Takes the ticket out of the store and returns it, if it is there and unexpired at `now`.
    /// A ticket is redeemed once: a second redemption (on any instance) gets `nil`.
    func redeemTicket(hash: String, now: Date) async throws -> TicketRecord?

    /// Takes one token from the bucket `key`, which holds at most `capacity` tokens and gains
    /// `refillPerSecond`; a bucket seen for the first time is full.
    func takeToken(from key: String, capacity: Int, refillPerSecond: Double, now: Date) async throws -> BucketDecision
    /// Adds `amount` to the counter `key` (a new counter starts at zero and is deleted after
    /// `expiresAt`); returns the new value.
    @discardableResult
    func addToCounter(_ key: String, amount: Int, expiresAt: Date) async throws -> Int
    /// The counter's value, 0 when it does not exist or has expired at `now`.
    func counter(_ key: String, now: Date) async throws -> Int

    /// Takes one of `limit` slots named `key` for `holder` until `until` (slots whose time ran
    /// out by `now` are free again); `nil` when all are taken.
    func claimSlot(_ key: String, limit: Int, holder: String, until: Date, now: Date) async throws -> Int?
    /// Frees the slot `index` if `holder` still has it.
    func releaseSlot(_ key: String, index: Int, holder: String) async throws
    /// How many of the slots named `key` are taken at `now`.
    func slotsTaken(_ key: String, limit: Int, now: Date) async throws -> Int
}
