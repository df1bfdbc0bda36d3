import Foundation
import KaiwaAWS
import KaiwaCore
import KaiwaStore

/// Connections, reply events and stop requests. Their items carry `expireAt`, so DynamoDB's
/// time to live removes them even when no instance sweeps.
extension DynamoDBChatStore {
    public func saveConnection(_ connection: ConnectionRecord) async throws {
        try await client.putItem(.init(table: tables.connections, item: StoredItems.connectionItem(connection)))
    }

    public func connection(_ id: String) async throws -> ConnectionRecord? {
        try await client.getItem(table: tables.connections, key: ["connectionId": .string(id)]).map(StoredItems.connection)
    }

    public func deleteConnection(_ id: String) async throws {
        try await client.deleteItem(.init(table: tables.connections, key: ["connectionId": .string(id)]))
    }

    public func appendReplyEvents(_ batches: [ReplyEventBatch]) async throws {
        let items = batches.filter { !$0.events.isEmpty }.map(StoredItems.replyBatchItem)
        try await client.batchWrite(table: tables.replyEvents, items.map { .put($0) })
    }

    public func replyEvents(in session: SessionID, after sequence: Int) async throws -> StoredReplyEvents? {
        let latest = try await client.queryPage(
            .init(
                table: tables.replyEvents, keyCondition: "sessionId = :session AND begins_with(eventKey, :events)",
                .init(values: [":session": .string(session.rawValue), ":events": .string(StoredItems.eventsKeyPrefix)]),
                newestFirst: true, consistent: true, limit: 1
            )
        )
        guard let replyID = latest.Items?.first?["replyId"]?.stringValue else { return nil }
        let batches = try await client.queryAll(
            .init(
                table: tables.replyEvents, keyCondition: "sessionId = :session AND begins_with(eventKey, :events)", filter: "replyId = :reply",
                .init(values: [
                    ":session": .string(session.rawValue), ":events": .string(StoredItems.eventsKeyPrefix), ":reply": .string(replyID),
                ]),
                consistent: true, limit: pageSize
            )
        )
        let events = try batches.flatMap(StoredItems.replyEvents).sorted { $0.sequence < $1.sequence }
        return StoredReplyEvents(replyID: replyID, allEvents: events, after: sequence)
    }

    public func requestStop(ofReply replyID: String, in session: SessionID, expiresAt: Date) async throws {
        try await client.putItem(
            .init(
                table: tables.replyEvents,
                item: [
                    "sessionId": .string(session.rawValue), "eventKey": .string(StoredItems.stopKeyPrefix + replyID),
                    "replyId": .string(replyID), "expiresAtMillis": StoredItems.millis(expiresAt), "expireAt": StoredItems.seconds(expiresAt),
                ]
            )
        )
    }

    public func isStopRequested(ofReply replyID: String, in session: SessionID) async throws -> Bool {
        try await client.getItem(
            table: tables.replyEvents,
            key: ["sessionId": .string(session.rawValue), "eventKey": .string(StoredItems.stopKeyPrefix + replyID)]
        ) != nil
    }

    /// The claim is an item of the reply-events table (`eventKey` = `claim`), written on the
    /// condition that there is none, or it is this reply's, or it ran out.
    public func claimSession(_ session: SessionID, forReply replyID: String, until: Date, now: Date) async throws -> Bool {
        do {
            try await client.putItem(
                .init(
                    table: tables.replyEvents,
                    item: [
                        "sessionId": .string(session.rawValue), "eventKey": .string(StoredItems.claimKey), "replyId": .string(replyID),
                        "expiresAtMillis": StoredItems.millis(until), "expireAt": StoredItems.seconds(until),
                    ],
                    condition: "attribute_not_exists(sessionId) OR replyId = :reply OR expiresAtMillis < :now",
                    .init(values: [":reply": .string(replyID), ":now": StoredItems.millis(now)])
                )
            )
            return true
        } catch let error as DynamoDBError where error.kind == .conditionalCheckFailed {
            return false
        }
    }

    public func releaseSession(_ session: SessionID, fromReply replyID: String) async throws {
        do {
            try await client.deleteItem(
                .init(
                    table: tables.replyEvents, key: ["sessionId": .string(session.rawValue), "eventKey": .string(StoredItems.claimKey)],
                    condition: "replyId = :reply", .init(values: [":reply": .string(replyID)])
                )
            )
        } catch let error as DynamoDBError where error.kind == .conditionalCheckFailed {
            return  // another reply's claim by now
        }
    }

    public func isSessionClaimed(_ session: SessionID, byReply replyID: String, now: Date) async throws -> Bool {
        guard
            let claim = try await client.getItem(
                table: tables.replyEvents, key: ["sessionId": .string(session.rawValue), "eventKey": .string(StoredItems.claimKey)]
            )
        else { return false }
        guard claim["replyId"]?.stringValue == replyID, let until = claim["expiresAtMillis"]?.intValue else { return false }
        return until >= now.millis
    }

    /// Deletes what expired before `now` from the connections and reply-event tables: a scan of
    /// each (both stay small because time to live also clears them), then one conditional
    /// delete per expired item, so that a record saved again meanwhile is kept.
    public func sweepExpired(now: Date) async throws -> Int {
        var removed = 0
        for (table, keyNames) in [(tables.connections, ["connectionId"]), (tables.replyEvents, ["sessionId", "eventKey"])] {
            let expired = try await client.queryAll(
                .init(
                    table: table, filter: "expiresAtMillis < :now", projection: keyNames.joined(separator: ", "),
                    .init(values: [":now": StoredItems.millis(now)]), limit: pageSize
                )
            )
            for key in expired {
                do {
                    try await client.deleteItem(
                        .init(table: table, key: key, condition: "expiresAtMillis < :now", .init(values: [":now": StoredItems.millis(now)]))
                    )
                    removed += 1
                } catch let error as DynamoDBError where error.kind == .conditionalCheckFailed {
                    continue
                }
            }
        }
        return removed
    }
}
