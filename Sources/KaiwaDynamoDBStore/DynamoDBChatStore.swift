import Foundation
import KaiwaAWS
import KaiwaCore
import KaiwaStore

/// Conversations in DynamoDB, shared by any number of Kaiwa instances.
///
/// Appends are ordered by the session item's `messageCount`: each append reads the counter,
/// then writes the messages and the new counter in one transaction on the condition that the
/// counter did not move; an instance that lost the race reads again and retries. Within an
/// instance, appends to one session queue up instead of racing.
///
/// Ownership is part of the same writes: a new session's item is put on the condition that
/// none exists (so of two callers naming one new id, one gets it and the other then reads
/// someone else's session), and every append's update of the session item is conditioned on
/// the owner it read.
///
/// Session lists read a global secondary index, so a session written on another instance may
/// take a moment (usually well under a second) to appear in them; everything else reads with
/// strong consistency.
public struct DynamoDBChatStore: ChatStore {
    public let client: DynamoDBClient
    public let tables: DynamoDBTables
    /// How long history is kept: items carry `expireAt` = their time + retention.
    public let retention: TimeInterval
    /// Items per `Query` page (`nil`: DynamoDB's 1 MB pages); small in tests of pagination.
    let pageSize: Int?
    private let locks = SessionWriteLocks()
    /// Where attached files go (an S3 bucket and key prefix); `nil`: uploads are refused.
    public var attachmentObjects: AttachmentObjects?

    public init(client: DynamoDBClient, tables: DynamoDBTables, retention: TimeInterval, pageSize: Int? = nil) {
        self.client = client
        self.tables = tables
        self.retention = retention
        self.pageSize = pageSize
    }

    public var kind: String { "dynamodb" }

    public var isSharedAcrossInstances: Bool { true }

    /// Throws unless DynamoDB answers a read of the sessions table within three seconds (one
    /// cheap `GetItem`, not retried, so that a load balancer's health check gets its answer in
    /// time; the full check of every table and index runs at start-up).
    public func checkHealth() async throws {
        var probe = client
        probe.retry = .init(maxAttempts: 1)
        probe.requestTimeout = .seconds(3)
        _ = try await probe.getItem(table: tables.sessions, key: sessionKey(SessionID(trusted: "~health")), consistent: false)
    }

    // MARK: Sessions

    public func openSession(_ session: SessionRecord, appending messages: [NewMessage]) async throws -> (session: SessionRecord, messages: [MessageRecord]) {
        try await locks.withLock(session.id) {
            let chunks = Self.writes(of: messages)
            var (opened, stored) = try await retryingLostRaces {
                guard let existing = try await client.getItem(table: tables.sessions, key: sessionKey(session.id)) else {
                    return try await create(session, with: chunks[0])
                }
                // Someone else's session is a missing one; the append below is conditioned on the owner too.
                guard try StoredItems.session(existing).owner == StoredItems.owner(session.owner) else {
                    throw KaiwaError.sessionNotFound(session.id)
                }
                return try await append(chunks[0], after: existing, replyEvents: [])
            }
            for chunk in chunks.dropFirst() {
                let (updated, more) = try await appendRetrying(chunk, to: session.id, replyEvents: [])
                opened = updated
                stored += more
            }
            return (opened, stored)
        }
    }

    /// Messages per transaction: DynamoDB takes 100 items, one is the session item and a few
    /// are reply events. Longer lists (a long history handed to `/invocations`, many tool
    /// rounds) are written in several transactions, each after the previous one.
    static let messagesPerWrite = 90

    static func writes(of messages: [NewMessage]) -> [[NewMessage]] {
        guard messages.count > messagesPerWrite else { return [messages] }
        return stride(from: 0, to: messages.count, by: messagesPerWrite).map {
            Array(messages[$0..<min($0 + messagesPerWrite, messages.count)])
        }
    }

    private func create(_ session: SessionRecord, with messages: [NewMessage]) async throws -> (SessionRecord, [MessageRecord]) {
        var created = session
        created.createdAt = Date(millis: session.createdAt.millis)
        let (records, timestamps) = positions(for: messages, in: session.id, after: 0, leaf: nil, lastTimestamp: 0)
        created.currentLeaf = records.last?.sequence
        created.updatedAt = Date(millis: max(created.updatedAt, records.last?.createdAt ?? .distantPast).millis)
        var items: [DynamoDBClient.TransactionItem] = [
            .put(
                .init(
                    table: tables.sessions,
                    item: StoredItems.sessionItem(created, messageCount: records.count, lastTimestamp: timestamps.last ?? 0, retention: retention),
                    condition: "attribute_not_exists(sessionId)"
                )
            )
        ]
        items += messagePuts(records, timestamps)
        try await client.transactWrite(items)
        return (created, records)
    }

    public func session(_ id: SessionID) async throws -> SessionRecord? {
        try await client.getItem(table: tables.sessions, key: sessionKey(id)).map(StoredItems.session)
    }

    /// Deletes the messages first, then the session item: a deletion cut short (throttled, or
    /// the instance gone) leaves a session that can be deleted again, never messages without
    /// a session that a new session of the same id would inherit.
    ///
    /// Only the owner's session is deleted: its owner is read (strongly consistent) before the
    /// messages go, and the session item's delete is conditioned on it.
    public func deleteSession(_ id: SessionID, owner: String?) async throws -> Bool {
        try await locks.withLock(id) {
            guard let item = try await client.getItem(table: tables.sessions, key: sessionKey(id)),
                try StoredItems.session(item).owner == StoredItems.owner(owner)
            else { return false }
            try await deleteAttachments(of: id)
            try await deleteMessages(of: id, before: nil)
            let (condition, placeholders) = Self.ownerCondition(owner)
            do {
                return try await client.deleteItem(.init(table: tables.sessions, key: sessionKey(id), condition: condition, placeholders)) != nil
            } catch let error as DynamoDBError where error.kind == .conditionalCheckFailed {
                return false
            }
        }
    }

    /// A condition that holds when the item's owner is `owner` (absent for `nil`).
    static func ownerCondition(_ owner: String?) -> (String, DynamoDBClient.Placeholders) {
        guard let owner = StoredItems.owner(owner) else { return ("attribute_not_exists(#owner)", .init(names: ["#owner": "owner"])) }
        return ("#owner = :owner", .init(names: ["#owner": "owner"], values: [":owner": .string(owner)]))
    }

    // MARK: Messages

    public func appendMessages(_ messages: [NewMessage], to id: SessionID, replyEvents: [ReplyEventBatch]) async throws -> [MessageRecord] {
        try await locks.withLock(id) {
            let chunks = Self.writes(of: messages)
            var stored: [MessageRecord] = []
            for (index, chunk) in chunks.enumerated() {
                stored += try await appendRetrying(chunk, to: id, replyEvents: index == chunks.count - 1 ? replyEvents : []).messages
            }
            return stored
        }
    }

    /// Appends after the session's current last message, reading it again after a lost race.
    private func appendRetrying(_ messages: [NewMessage], to id: SessionID, replyEvents: [ReplyEventBatch]) async throws -> (session: SessionRecord, messages: [MessageRecord]) {
        try await retryingLostRaces {
            guard let existing = try await client.getItem(table: tables.sessions, key: sessionKey(id)) else {
                throw KaiwaError.sessionNotFound(id)
            }
            return try await append(messages, after: existing, replyEvents: replyEvents)
        }
    }

    /// Writes `messages` after the session item's counter, with the new counter and the reply
    /// events, in one transaction that fails if another writer moved the counter first.
    /// Returns the session as it is after the write, and the stored messages.
    private func append(_ messages: [NewMessage], after sessionItem: DynamoDBItem, replyEvents: [ReplyEventBatch]) async throws -> (SessionRecord, [MessageRecord]) {
        var session = try StoredItems.session(sessionItem)
        let count = sessionItem["messageCount"]?.intValue ?? 0
        let lastTimestamp = sessionItem["lastTimestamp"]?.intValue ?? 0
        let leaf = sessionItem["leaf"]?.intValue.map(Int.init) ?? (count > 0 ? Int(count) : nil)
        let (records, timestamps) = positions(for: messages, in: session.id, after: Int(count), leaf: leaf, lastTimestamp: lastTimestamp)
        var items: [DynamoDBClient.TransactionItem] = []
        if let last = records.last, let lastTimestamp = timestamps.last {
            let updatedAt = Date(millis: max(session.updatedAt, last.createdAt).millis)
            session.updatedAt = updatedAt
            session.currentLeaf = last.sequence
            let (ownerCondition, ownerPlaceholders) = Self.ownerCondition(session.owner)
            var values: DynamoDBItem = [
                ":count": .int(count + Int64(records.count)), ":last": .int(lastTimestamp),
                ":updated": StoredItems.millis(updatedAt), ":updatedKey": .string(StoredItems.updatedKey(updatedAt, session.id)),
                ":expire": StoredItems.seconds(updatedAt.addingTimeInterval(retention)), ":expected": .int(count),
                ":leaf": .int(last.sequence),
            ]
            values.merge(ownerPlaceholders.values ?? [:]) { $1 }
            items.append(
                .update(
                    .init(
                        table: tables.sessions, key: sessionKey(session.id),
                        update: "SET messageCount = :count, lastTimestamp = :last, updatedAt = :updated, updatedKey = :updatedKey, expireAt = :expire, leaf = :leaf",
                        condition: "messageCount = :expected AND " + ownerCondition,
                        .init(names: ownerPlaceholders.names, values: values)
                    )
                )
            )
        }
        items += messagePuts(records, timestamps)
        items += replyEvents.filter { !$0.events.isEmpty }.map { .put(.init(table: tables.replyEvents, item: StoredItems.replyBatchItem($0))) }
        if !items.isEmpty { try await client.transactWrite(items) }
        return (session, records)
    }

    /// Positions after `count` and sort keys after `lastTimestamp`: each message's time in
    /// milliseconds, moved one past the previous message's when it would not be greater.
    private func positions(
        for messages: [NewMessage], in session: SessionID, after count: Int, leaf: Int?, lastTimestamp: Int64
    ) -> ([MessageRecord], [Int64]) {
        var timestamp = lastTimestamp
        var timestamps: [Int64] = []
        let parents = MessageParent.positions(of: messages, startingAt: count + 1, after: leaf)
        let records = messages.enumerated().map { offset, message in
            timestamp = max(message.createdAt.millis, timestamp + 1)
            timestamps.append(timestamp)
            return MessageRecord(
                id: message.id, sessionID: session, sequence: count + offset + 1, role: message.role, content: message.content,
                model: message.model, status: message.status, usage: message.usage, costUSD: message.costUSD,
                createdAt: message.createdAt, parentSequence: parents[offset]
            )
        }
        return (records, timestamps)
    }

    /// Puts that never replace a stored message, whatever the counter said.
    private func messagePuts(_ records: [MessageRecord], _ timestamps: [Int64]) -> [DynamoDBClient.TransactionItem] {
        zip(records, timestamps).map { record, timestamp in
            .put(
                .init(
                    table: tables.history, item: StoredItems.messageItem(record, timestamp: timestamp, retention: retention),
                    condition: "attribute_not_exists(sessionId)"
                )
            )
        }
    }

    public func messages(in id: SessionID) async throws -> [MessageRecord] {
        let items = try await client.queryAll(
            .init(
                table: tables.history, keyCondition: "sessionId = :session", .init(values: [":session": .string(id.rawValue)]),
                consistent: true, limit: pageSize
            )
        )
        return try items.map(StoredItems.message).sorted { $0.sequence < $1.sequence }
    }

    /// Pages back from the newest message (the sort key is time, which follows position);
    /// messages at or after `sequence` are filtered out on the way.
    public func messages(in id: SessionID, before sequence: Int?, limit: Int) async throws -> [MessageRecord] {
        guard limit > 0 else { return [] }
        var values: DynamoDBItem = [":session": .string(id.rawValue)]
        if let sequence { values[":before"] = .int(Int64(sequence)) }
        let query = DynamoDBClient.Query(
            table: tables.history, keyCondition: "sessionId = :session", filter: sequence == nil ? nil : "seq < :before",
            .init(values: values), newestFirst: true, consistent: true, limit: min(limit, pageSize ?? limit)
        )
        var newestFirst: [MessageRecord] = []
        var start: DynamoDBItem?
        repeat {
            let page = try await client.queryPage(query, from: start)
            newestFirst += try (page.Items ?? []).map(StoredItems.message)
            start = page.LastEvaluatedKey
        } while start != nil && newestFirst.count < limit
        return newestFirst.prefix(limit).sorted { $0.sequence < $1.sequence }
    }

    // MARK: Retention

    /// DynamoDB's time to live deletes expired items on its own, within days; this sweep makes
    /// retention exact: sessions idle since `cutoff` go with their messages, and older
    /// messages of the sessions that stay go too.
    public func sweep(before cutoff: Date) async throws -> SweepResult {
        let idle = try await sessionsUpdated("updatedKey < :cutoff", cutoff: cutoff)
        var result = SweepResult(sessions: 0, messages: 0)
        for item in idle {
            let session = try StoredItems.session(item)
            do {
                try await client.deleteItem(
                    .init(
                        table: tables.sessions, key: sessionKey(session.id), condition: "updatedAt < :cutoff",
                        .init(values: [":cutoff": StoredItems.millis(cutoff)])
                    )
                )
            } catch let error as DynamoDBError where error.kind == .conditionalCheckFailed {
                continue  // a message arrived since the query: the session stays
            }
            result.sessions += 1
            result.messages += try await deleteMessages(of: session.id, before: nil)
        }
        let olderThanCutoff = try await sessionsUpdated("updatedKey >= :cutoff", cutoff: cutoff, filter: "createdAt < :cutoffMillis")
        for item in olderThanCutoff {
            result.messages += try await deleteMessages(of: try StoredItems.session(item).id, before: cutoff)
        }
        return result
    }

    /// Deletes the session's messages (those stored before `cutoff`, when given); returns how many.
    @discardableResult
    private func deleteMessages(of id: SessionID, before cutoff: Date?) async throws -> Int {
        var values: DynamoDBItem = [":session": .string(id.rawValue)]
        var condition = "sessionId = :session"
        if let cutoff {
            condition += " AND #timestamp < :cutoff"
            values[":cutoff"] = StoredItems.millis(cutoff)
        }
        let keys = try await client.queryAll(
            .init(
                table: tables.history, keyCondition: condition, projection: "sessionId, #timestamp",
                .init(names: ["#timestamp": "timestamp"], values: values), consistent: true, limit: pageSize
            )
        )
        try await client.batchWrite(table: tables.history, keys.map { .delete(key: $0) })
        return keys.count
    }

    // MARK: Helpers

    func sessionKey(_ id: SessionID) -> DynamoDBItem {
        ["sessionId": .string(id.rawValue)]
    }

    /// Runs `body` again when a conditional write lost to another instance's write.
    private func retryingLostRaces<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch let error as DynamoDBError where error.kind == .transactionCanceled && error.cancellationReasons.contains("ConditionalCheckFailed") {
                attempt += 1
                guard attempt < 50 else { throw error }
                try await Task.sleep(for: client.retry.delay(afterAttempt: min(attempt, 4)))
            }
        }
    }
}
