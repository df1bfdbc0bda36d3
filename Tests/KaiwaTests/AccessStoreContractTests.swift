import Crypto
import Foundation
import KaiwaCore
import KaiwaStore
import Testing

/// API keys, WebSocket tickets, rate-limit buckets, usage counters and reply slots: what
/// every store keeps for authentication and limits, run against each implementation.
struct AccessStoreContractTests {
    typealias Kind = StoreContractTests.Kind

    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// A key record as `kaiwa keys create` makes one: the hash of the secret, its first 16 hex
    /// digits as id.
    func apiKey(_ secret: String, user: String, at time: Date, name: String? = nil) -> APIKeyRecord {
        let hash = SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
        return APIKeyRecord(id: String(hash.prefix(16)), hash: hash, prefix: String(secret.prefix(7)), user: user, name: name, createdAt: time)
    }

    // MARK: API keys

    @Test(arguments: Kind.allCases)
    func apiKeysAreSavedOnceReadListedNewestFirstRevokedAndTouched(kind: Kind) async throws {
        let store = try await kind.make()
        var laptop = apiKey("kw_laptop-secret", user: "alice", at: t0, name: "laptop")
        laptop.expiresAt = t0.addingTimeInterval(86_400)
        let ci = apiKey("kw_ci-secret", user: "alice", at: t0.addingTimeInterval(10))
        let bobs = apiKey("kw_bobs-secret", user: "bob", at: t0.addingTimeInterval(5))
        for key in [laptop, ci, bobs] { try await store.saveAPIKey(key) }

        var impostor = apiKey("kw_other-secret", user: "mallory", at: t0)
        impostor.id = laptop.id
        let error = await #expect(throws: KaiwaError.self) { try await store.saveAPIKey(impostor) }
        #expect(error?.code == .conflict)
        #expect(try await store.apiKey(id: laptop.id) == laptop)
        #expect(try await store.apiKey(id: "0123456789abcdef") == nil)

        #expect(try await store.apiKeys(user: "alice") == [ci, laptop])
        #expect(try await store.apiKeys(user: nil) == [ci, bobs, laptop])
        #expect(try await store.apiKeys(user: "carol").isEmpty)

        #expect(try await store.revokeAPIKey(id: laptop.id, at: t0.addingTimeInterval(20)))
        #expect(try await store.revokeAPIKey(id: laptop.id, at: t0.addingTimeInterval(30)))
        let revoked = try #require(try await store.apiKey(id: laptop.id))
        #expect(revoked.revokedAt == t0.addingTimeInterval(20))
        #expect(!revoked.isUsable(at: t0.addingTimeInterval(21)))
        #expect(try await store.revokeAPIKey(id: "0123456789abcdef", at: t0) == false)

        try await store.touchAPIKey(id: ci.id, at: t0.addingTimeInterval(40))
        #expect(try await store.apiKey(id: ci.id)?.lastUsedAt == t0.addingTimeInterval(40))
        // Touching a key that does not exist records nothing and makes no key.
        try await store.touchAPIKey(id: "0123456789abcdef", at: t0)
        #expect(try await store.apiKey(id: "0123456789abcdef") == nil)
        #expect(try await store.apiKeys(user: nil).count == 3)
    }

    // MARK: Tickets

    @Test(arguments: Kind.allCases)
    func aTicketIsRedeemedOnceAndNotAfterItExpires(kind: Kind) async throws {
        let store = try await kind.make()
        let alice = Subject(id: "sub-alice", name: "Alice", method: .jwt)
        let ticket = TicketRecord(hash: "hash-1", subject: alice, expiresAt: t0.addingTimeInterval(30))
        try await store.saveTicket(ticket)
        #expect(try await store.redeemTicket(hash: "hash-1", now: t0.addingTimeInterval(1)) == ticket)
        #expect(try await store.redeemTicket(hash: "hash-1", now: t0.addingTimeInterval(2)) == nil)

        try await store.saveTicket(TicketRecord(hash: "hash-2", subject: alice, expiresAt: t0.addingTimeInterval(30)))
        #expect(try await store.redeemTicket(hash: "hash-2", now: t0.addingTimeInterval(30)) == nil)
        #expect(try await store.redeemTicket(hash: "hash-2", now: t0) == nil)
        #expect(try await store.redeemTicket(hash: "never-issued", now: t0) == nil)
    }

    @Test(arguments: Kind.allCases)
    func aTicketRedeemedTwiceAtOnceIsGivenToOne(kind: Kind) async throws {
        let store = try await kind.make()
        let key = Subject(id: "alice", name: "alice", method: .apiKey)
        try await store.saveTicket(TicketRecord(hash: "raced", subject: key, expiresAt: t0.addingTimeInterval(30)))
        let redeemed = try await withThrowingTaskGroup(of: TicketRecord?.self) { group in
            for _ in 0..<4 { group.addTask { try await store.redeemTicket(hash: "raced", now: t0) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(redeemed.compactMap { $0?.subject } == [key])
    }

    // MARK: Buckets

    @Test(arguments: Kind.allCases)
    func aBucketAllowsItsCapacityThenDeniesUntilItRefills(kind: Kind) async throws {
        let store = try await kind.make()
        func take(at seconds: TimeInterval, from key: String = "ip#203.0.113.7") async throws -> BucketDecision {
            try await store.takeToken(from: key, capacity: 3, refillPerSecond: 0.5, now: t0.addingTimeInterval(seconds))
        }
        for _ in 0..<3 { #expect(try await take(at: 0) == .allowed) }
        guard case .denied(let wait) = try await take(at: 0) else {
            Issue.record("a fourth request at once should be denied")
            return
        }
        #expect(abs(wait - 2) < 0.01)  // one token every two seconds
        #expect(try await take(at: 0, from: "ip#198.51.100.1") == .allowed)
        guard case .denied(let shorter) = try await take(at: 1) else {
            Issue.record("half a token is not a token")
            return
        }
        #expect(abs(shorter - 1) < 0.01)
        #expect(try await take(at: 2) == .allowed)
        #expect(try await take(at: 2) != .allowed)
        // A long pause fills the bucket to its capacity, not beyond.
        for _ in 0..<3 { #expect(try await take(at: 1000) == .allowed) }
        #expect(try await take(at: 1000) != .allowed)
    }

    @Test(arguments: Kind.allCases)
    func concurrentRequestsNeverTakeMoreThanTheBucketHolds(kind: Kind) async throws {
        let store = try await kind.make()
        let decisions = try await withThrowingTaskGroup(of: BucketDecision.self) { group in
            for _ in 0..<6 {
                group.addTask { try await store.takeToken(from: "user#alice", capacity: 4, refillPerSecond: 0, now: t0) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(decisions.count { $0 == .allowed } == 4)
    }

    // MARK: Counters

    @Test(arguments: Kind.allCases)
    func countersAddUpAndReadZeroOnceExpired(kind: Kind) async throws {
        let store = try await kind.make()
        let endOfDay = t0.addingTimeInterval(100)
        #expect(try await store.addToCounter("tokens#alice#2027-01-15", amount: 500, expiresAt: endOfDay) == 500)
        #expect(try await store.addToCounter("tokens#alice#2027-01-15", amount: 1200, expiresAt: endOfDay) == 1700)
        #expect(try await store.addToCounter("tokens#bob#2027-01-15", amount: 7, expiresAt: endOfDay) == 7)
        #expect(try await store.counter("tokens#alice#2027-01-15", now: t0) == 1700)
        #expect(try await store.counter("tokens#alice#2027-01-15", now: endOfDay.addingTimeInterval(-0.5)) == 1700)
        #expect(try await store.counter("tokens#alice#2027-01-15", now: endOfDay) == 0)
        #expect(try await store.counter("tokens#carol#2027-01-15", now: t0) == 0)
    }

    // MARK: Slots

    @Test(arguments: Kind.allCases)
    func slotsAreTakenUpToTheLimitFreedByTheirHolderAndReclaimedWhenRunOut(kind: Kind) async throws {
        let store = try await kind.make()
        let key = "replies#alice"
        func claim(_ holder: String, until: TimeInterval, at now: TimeInterval) async throws -> Int? {
            try await store.claimSlot(key, limit: 2, holder: holder, until: t0.addingTimeInterval(until), now: t0.addingTimeInterval(now))
        }
        #expect(try await claim("r1", until: 30, at: 0) == 0)
        #expect(try await claim("r2", until: 60, at: 0) == 1)
        #expect(try await claim("r3", until: 60, at: 1) == nil)
        #expect(try await store.slotsTaken(key, limit: 2, now: t0.addingTimeInterval(1)) == 2)
        #expect(try await store.claimSlot("replies#bob", limit: 2, holder: "r9", until: t0.addingTimeInterval(60), now: t0) == 0)

        // Only the holder frees its slot.
        try await store.releaseSlot(key, index: 0, holder: "r3")
        #expect(try await claim("r3", until: 60, at: 2) == nil)
        try await store.releaseSlot(key, index: 0, holder: "r1")
        #expect(try await store.slotsTaken(key, limit: 2, now: t0.addingTimeInterval(2)) == 1)
        #expect(try await claim("r3", until: 100, at: 2) == 0)

        // r2's time runs out at 60 (its reply died): its slot is free again.
        #expect(try await store.slotsTaken(key, limit: 2, now: t0.addingTimeInterval(61)) == 1)
        #expect(try await claim("r4", until: 120, at: 61) == 1)
        #expect(try await store.slotsTaken(key, limit: 2, now: t0.addingTimeInterval(61)) == 2)
        // r2 releasing late does not free r4's slot.
        try await store.releaseSlot(key, index: 1, holder: "r2")
        #expect(try await store.slotsTaken(key, limit: 2, now: t0.addingTimeInterval(62)) == 2)
    }

    @Test(arguments: Kind.allCases)
    func concurrentClaimsTakeEachSlotOnce(kind: Kind) async throws {
        let store = try await kind.make()
        let claimed = try await withThrowingTaskGroup(of: Int?.self) { group in
            for index in 0..<5 {
                group.addTask {
                    try await store.claimSlot("replies#alice", limit: 2, holder: "r\(index)", until: t0.addingTimeInterval(60), now: t0)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(claimed.compactMap { $0 }.sorted() == [0, 1])
    }

    // MARK: Sweeping

    /// DynamoDB is left out: its time to live deletes these items, and reads already ignore
    /// what expired.
    @Test(arguments: [Kind.memory, .sqlite])
    func sweepingDeletesExpiredTicketsCountersSlotsAndIdleBucketsOnly(kind: Kind) async throws {
        let store = try await kind.make()
        let later = t0.addingTimeInterval(3 * 86_400)
        let alice = Subject(id: "alice", name: "alice", method: .jwt)
        try await store.saveTicket(TicketRecord(hash: "old", subject: alice, expiresAt: t0.addingTimeInterval(30)))
        try await store.saveTicket(TicketRecord(hash: "new", subject: alice, expiresAt: later))
        try await store.addToCounter("old", amount: 1, expiresAt: t0.addingTimeInterval(100))
        try await store.addToCounter("new", amount: 1, expiresAt: later)
        _ = try await store.claimSlot("old", limit: 1, holder: "r1", until: t0.addingTimeInterval(30), now: t0)
        _ = try await store.claimSlot("new", limit: 1, holder: "r2", until: later, now: t0)
        _ = try await store.takeToken(from: "idle", capacity: 1, refillPerSecond: 0, now: t0)
        _ = try await store.takeToken(from: "busy", capacity: 1, refillPerSecond: 0, now: later.addingTimeInterval(-3600))
        try await store.saveAPIKey(apiKey("kw_kept", user: "alice", at: t0))

        #expect(try await store.sweepExpired(now: t0.addingTimeInterval(2 * 86_400)) == 4)
        #expect(try await store.redeemTicket(hash: "new", now: t0) != nil)
        #expect(try await store.counter("new", now: t0) == 1)
        #expect(try await store.slotsTaken("new", limit: 1, now: t0) == 1)
        // The busy bucket kept its state: still empty.
        #expect(try await store.takeToken(from: "busy", capacity: 1, refillPerSecond: 0, now: later) != .allowed)
        #expect(try await store.apiKeys(user: "alice").count == 1)
    }
}
