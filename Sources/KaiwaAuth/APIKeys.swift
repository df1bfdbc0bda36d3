import Crypto
import Foundation
import KaiwaCore
import KaiwaStore
import Synchronization

/// Kaiwa's API keys: `kw_` and 32 random bytes in base64url. The store keeps only the key's
/// SHA-256; its id (what `kaiwa keys revoke` takes) is the first 16 hex digits of that hash, so
/// a presented key is found with one read by id.
public final class APIKeys: Sendable {
    public static let prefix = "kw_"
    static let keyLength = prefix.count + 43

    let store: any ChatStore
    let clock: any WallClock
    /// When each key's last use was written, so that a busy key writes once a minute.
    private let lastTouched = Mutex<[String: Date]>([:])
    static let touchInterval: TimeInterval = 60

    public init(store: any ChatStore, clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.clock = clock
    }

    /// A new key for `user`, stored; the key itself is returned once and never again.
    public func create(user: String, name: String?, expiresAt: Date?) async throws -> (key: String, record: APIKeyRecord) {
        let key = Self.secret(prefix: Self.prefix)
        let hash = Self.hash(key)
        let record = APIKeyRecord(
            id: String(hash.prefix(16)), hash: hash, prefix: String(key.prefix(7)), user: user, name: name,
            createdAt: clock.now(), expiresAt: expiresAt
        )
        try await store.saveAPIKey(record)
        return (key, record)
    }

    /// The subject a presented key signs in as, or `unauthorized`.
    public func verify(_ key: String) async throws -> Subject {
        guard Self.looksLikeKey(key) else { throw KaiwaError(.unauthorized, "The API key is not valid.") }
        let hash = Self.hash(key)
        guard let record = try await store.apiKey(id: String(hash.prefix(16))), Self.constantTimeEqual(record.hash, hash) else {
            throw KaiwaError(.unauthorized, "The API key is not valid.")
        }
        let now = clock.now()
        if record.revokedAt != nil { throw KaiwaError(.unauthorized, "The API key has been revoked.") }
        if let expiry = record.expiresAt, now >= expiry { throw KaiwaError(.unauthorized, "The API key has expired.") }
        try await touch(record, at: now)
        return Subject(id: record.user, name: record.name.map { "\(record.user) (\($0))" } ?? record.user, method: .apiKey)
    }

    private func touch(_ record: APIKeyRecord, at now: Date) async throws {
        let due = lastTouched.withLock { touched in
            let last = touched[record.id] ?? record.lastUsedAt ?? .distantPast
            guard now.timeIntervalSince(last) >= Self.touchInterval else { return false }
            if touched.count > 10_000 { touched.removeAll() }
            touched[record.id] = now
            return true
        }
        if due { try await store.touchAPIKey(id: record.id, at: now) }
    }

    /// `prefix` and 32 random bytes in base64url: API keys and WebSocket tickets.
    static func secret(prefix: String) -> String {
        prefix + Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    public static func looksLikeKey(_ text: String) -> Bool {
        text.utf8.count == keyLength && text.hasPrefix(prefix)
            && text.utf8.dropFirst(prefix.count).allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
            }
    }

    static func hash(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).hexString
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
