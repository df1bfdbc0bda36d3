import Foundation
import KaiwaCore

/// API keys, tickets, buckets, counters and slots of the in-memory store.
struct InMemoryAccessState {
    var keys: [String: APIKeyRecord] = [:]
    var tickets: [String: TicketRecord] = [:]
    var buckets: [String: (tokens: Double, updatedAt: Date)] = [:]
    var counters: [String: (value: Int, expiresAt: Date)] = [:]
    var slots: [String: (holder: String, until: Date)] = [:]

    /// Forgets expired tickets, counters and slots, and buckets untouched for a day (as the
    /// SQLite store's sweep does); returns how many.
    mutating func sweep(now: Date) -> Int {
        let before = tickets.count + counters.count + slots.count + buckets.count
        tickets = tickets.filter { $0.value.expiresAt >= now }
        counters = counters.filter { $0.value.expiresAt >= now }
        slots = slots.filter { $0.value.until >= now }
        buckets = buckets.filter { $0.value.updatedAt >= now.addingTimeInterval(-86_400) }
        return before - (tickets.count + counters.count + slots.count + buckets.count)
    }
}

extension InMemoryChatStore {
    public func saveAPIKey(_ key: APIKeyRecord) async throws {
        guard access.keys[key.id] == nil else { throw KaiwaError(.conflict, "An API key with id \(key.id) exists.") }
        access.keys[key.id] = key
    }

    public func apiKey(id: String) async throws -> APIKeyRecord? {
        access.keys[id]
    }

    public func apiKeys(user: String?) async throws -> [APIKeyRecord] {
        access.keys.values.filter { user == nil || $0.user == user }.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
    }

    public func revokeAPIKey(id: String, at: Date) async throws -> Bool {
        guard access.keys[id] != nil else { return false }
        if access.keys[id]?.revokedAt == nil { access.keys[id]?.revokedAt = at }
        return true
    }

    public func touchAPIKey(id: String, at: Date) async throws {
        access.keys[id]?.lastUsedAt = at
    }

    public func saveTicket(_ ticket: TicketRecord) async throws {
        access.tickets[ticket.hash] = ticket
    }

    public func redeemTicket(hash: String, now: Date) async throws -> TicketRecord? {
        guard let ticket = access.tickets.removeValue(forKey: hash), now < ticket.expiresAt else { return nil }
        return ticket
    }

    public func takeToken(from key: String, capacity: Int, refillPerSecond: Double, now: Date) async throws -> BucketDecision {
        let bucket = access.buckets[key] ?? (Double(capacity), now)
        let decision = TokenBucket.take(tokens: bucket.tokens, updatedAt: bucket.updatedAt, capacity: capacity, refillPerSecond: refillPerSecond, now: now)
        access.buckets[key] = (decision.tokens, decision.updatedAt)
        return decision.decision
    }

    public func addToCounter(_ key: String, amount: Int, expiresAt: Date) async throws -> Int {
        let value = (access.counters[key]?.value ?? 0) + amount
        access.counters[key] = (value, expiresAt)
        return value
    }

    public func counter(_ key: String, now: Date) async throws -> Int {
        guard let counter = access.counters[key], now < counter.expiresAt else { return 0 }
        return counter.value
    }

    public func claimSlot(_ key: String, limit: Int, holder: String, until: Date, now: Date) async throws -> Int? {
        for index in 0..<max(0, limit) {
            let name = "\(key)#\(index)"
            if let slot = access.slots[name], slot.until > now, slot.holder != holder { continue }
            access.slots[name] = (holder, until)
            return index
        }
        return nil
    }

    public func releaseSlot(_ key: String, index: Int, holder: String) async throws {
        let name = "\(key)#\(index)"
        if access.slots[name]?.holder == holder { access.slots[name] = nil }
    }

    public func slotsTaken(_ key: String, limit: Int, now: Date) async throws -> Int {
        (0..<max(0, limit)).count { access.slots["\(key)#\($0)"].map { $0.until > now } ?? false }
    }
}
