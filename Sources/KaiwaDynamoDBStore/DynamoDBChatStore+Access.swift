import Foundation
import KaiwaAWS
import KaiwaCore
import KaiwaStore

/// API keys, tickets and limits in the `Access` table, one item each (see
/// `StoredItems.Access`). Every write that must hold across instances is a conditional or
/// atomic write, never a read followed by a blind write. Expired items are left to DynamoDB's
/// time to live (`sweepExpired` does not scan this table); reads check expiry themselves.
extension DynamoDBChatStore {
    private typealias Access = StoredItems.Access

    // MARK: API keys

    public func saveAPIKey(_ record: APIKeyRecord) async throws {
        do {
            try await client.putItem(.init(table: tables.access, item: Access.apiKeyItem(record), condition: "attribute_not_exists(id)"))
        } catch let error as DynamoDBError where error.kind == .conditionalCheckFailed {
            throw KaiwaError(.conflict, "An API key with id \(record.id) exists.")
        }
    }

    public func apiKey(id: String) async throws -> APIKeyRecord? {
        try await client.getItem(table: tables.access, key: Access.key("apikey", id)).map(Access.apiKey)
    }

    /// A `Scan` of the whole table keeping the `apikey#` items: for `kaiwa keys list`, which an
    /// operator runs now and then over a few keys, never for a request (a table with many
    /// buckets and counters makes it slow and costly).
    public func apiKeys(user: String?) async throws -> [APIKeyRecord] {
        var filter = "begins_with(id, :kind)"
        var values: DynamoDBItem = [":kind": .string("apikey#")]
        if let user {
            filter += " AND #user = :user"
            values[":user"] = .string(user)
        }
        let items = try await client.queryAll(
            .init(table: tables.access, filter: filter, .init(names: user == nil ? nil : ["#user": "user"], values: values), consistent: true)
        )
        return try items.map(Access.apiKey).sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
    }

    public func revokeAPIKey(id: String, at: Date) async throws -> Bool {
        do {
            try await client.updateItem(
                .init(
                    table: tables.access, key: Access.key("apikey", id), update: "SET revokedAt = if_not_exists(revokedAt, :at)",
                    condition: "attribute_exists(id)", .init(values: [":at": StoredItems.millis(at)])
                )
            )
            return true
        } catch let error as DynamoDBError where error.kind == .conditionalCheckFailed {
            return false
        }
    }

    public func touchAPIKey(id: String, at: Date) async throws {
        do {
            try await client.updateItem(
                .init(
                    table: tables.access, key: Access.key("apikey", id), update: "SET lastUsedAt = :at", condition: "attribute_exists(id)",
                    .init(values: [":at": StoredItems.millis(at)])
                )
            )
        } catch let error as DynamoDBError where error.kind == .conditionalCheckFailed {
            return  // no such key: nothing to record (an update would create a stray item)
        }
    }

    // MARK: Tickets

    public func saveTicket(_ ticket: TicketRecord) async throws {
        try await client.putItem(.init(table: tables.access, item: try Access.ticketItem(ticket)))
    }

    /// A `DeleteItem` that returns what it deleted: of two instances redeeming one ticket at
    /// once, only one gets it back. An expired ticket is deleted too, and refused.
    public func redeemTicket(hash: String, now: Date) async throws -> TicketRecord? {
        guard let item = try await client.deleteItem(.init(table: tables.access, key: Access.key("ticket", hash))) else { return nil }
        let ticket = try Access.ticket(item, hash: hash)
        return now < ticket.expiresAt ? ticket : nil
    }

    // MARK: Limits

    /// Reads the bucket (strongly consistent), then writes it back on the condition that its
    /// `version` did not move (or that it still does not exist); an instance that lost the
    /// race reads again. A version rather than `updatedAt`: two writes of one millisecond
    /// would both pass a condition on the time.
    public func takeToken(from bucket: String, capacity: Int, refillPerSecond: Double, now: Date) async throws -> BucketDecision {
        let key = Access.key("bucket", bucket)
        for attempt in 0..<Self.bucketAttempts {
            if attempt > 0 { try await Task.sleep(for: client.retry.delay(afterAttempt: min(attempt, 4))) }
            let item = try await client.getItem(table: tables.access, key: key)
            let version = item?["version"]?.intValue
            let updatedAt = item?["updatedAt"]?.intValue.map(Date.init(millis:))
            if item != nil, version == nil || updatedAt == nil || Access.tokens(item?["tokens"]) == nil {
                throw StoreCorruption(row: "bucket \(bucket)", problem: "it lacks its tokens, time or version")
            }
            let outcome = TokenBucket.take(
                tokens: Access.tokens(item?["tokens"]) ?? Double(capacity), updatedAt: updatedAt ?? now, capacity: capacity,
                refillPerSecond: refillPerSecond, now: now
            )
            var written = key
            written["tokens"] = Access.tokens(outcome.tokens)
            written["updatedAt"] = StoredItems.millis(outcome.updatedAt)
            written["version"] = .int((version ?? 0) + 1)
            written["expireAt"] = StoredItems.seconds(outcome.updatedAt.addingTimeInterval(86_400))
            do {
                try await client.putItem(
                    .init(
                        table: tables.access, item: written,
                        condition: version == nil ? "attribute_not_exists(id)" : "version = :version",
                        .init(values: version.map { [":version": .int($0)] })
                    )
                )
                return outcome.decision
            } catch let error as DynamoDBError where error.kind == .conditionalCheckFailed {
                continue
            }
        }
        throw KaiwaError(.rateLimited, "Too many requests at once; try again in a moment.", retryAfterSeconds: 1)
    }

    /// Reads and conditional writes of one bucket before giving up: a bucket that changed under
    /// every one of them is taking requests from many instances at once, and the request is
    /// refused as rate limited rather than failed.
    static let bucketAttempts = 10

    /// An atomic `ADD`: concurrent additions from any instances all count.
    public func addToCounter(_ counter: String, amount: Int, expiresAt: Date) async throws -> Int {
        let item = try await client.updateItem(
            .init(
                table: tables.access, key: Access.key("counter", counter),
                update: "ADD #value :amount SET expiresAtMillis = :expires, expireAt = :expire",
                .init(
                    names: ["#value": "value"],
                    values: [":amount": .int(amount), ":expires": StoredItems.millis(expiresAt), ":expire": StoredItems.seconds(expiresAt)]
                )
            )
        )
        guard let value = item?["value"]?.intValue else { throw StoreCorruption(row: "counter \(counter)", problem: "it has no value") }
        return Int(value)
    }

    public func counter(_ counter: String, now: Date) async throws -> Int {
        guard let item = try await client.getItem(table: tables.access, key: Access.key("counter", counter)) else { return 0 }
        guard let value = item["value"]?.intValue, let expires = item["expiresAtMillis"]?.intValue else {
            throw StoreCorruption(row: "counter \(counter)", problem: "it lacks its value or expiry")
        }
        return now < Date(millis: expires) ? Int(value) : 0
    }

    /// Slot `i` of `key` is the item `slot#<key>#<i>`, taken with a put on the condition that it
    /// is free (absent or run out) or already the holder's: the first slot that takes it wins.
    public func claimSlot(_ slots: String, limit: Int, holder: String, until: Date, now: Date) async throws -> Int? {
        for index in 0..<max(0, limit) {
            var item = Access.key("slot", "\(slots)#\(index)")
            item["holder"] = .string(holder)
            item["until"] = StoredItems.millis(until)
            item["expireAt"] = StoredItems.seconds(until)
            do {
                try await client.putItem(
                    .init(
                        table: tables.access, item: item, condition: "attribute_not_exists(id) OR #until <= :now OR holder = :holder",
                        .init(names: ["#until": "until"], values: [":now": StoredItems.millis(now), ":holder": .string(holder)])
                    )
                )
                return index
            } catch let error as DynamoDBError where error.kind == .conditionalCheckFailed {
                continue
            }
        }
        return nil
    }

    public func releaseSlot(_ slots: String, index: Int, holder: String) async throws {
        do {
            try await client.deleteItem(
                .init(
                    table: tables.access, key: Access.key("slot", "\(slots)#\(index)"), condition: "holder = :holder",
                    .init(values: [":holder": .string(holder)])
                )
            )
        } catch let error as DynamoDBError where error.kind == .conditionalCheckFailed {
            return  // its time ran out and another holder took it, or it is gone
        }
    }

    public func slotsTaken(_ slots: String, limit: Int, now: Date) async throws -> Int {
        var taken = 0
        for index in 0..<max(0, limit) {
            guard let item = try await client.getItem(table: tables.access, key: Access.key("slot", "\(slots)#\(index)")) else { continue }
            guard let until = item["until"]?.intValue else { throw StoreCorruption(row: "slot \(slots)#\(index)", problem: "it has no time") }
            if Date(millis: until) > now { taken += 1 }
        }
        return taken
    }
}
