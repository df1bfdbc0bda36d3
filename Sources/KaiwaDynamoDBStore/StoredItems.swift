import Foundation
import KaiwaAWS
import KaiwaCore
import KaiwaStore

/// How records become items and back. Times are epoch milliseconds (`N`), except the
/// time-to-live attribute `expireAt`, which DynamoDB wants in epoch seconds (its exact
/// millisecond twin, `expiresAtMillis`, is what the sweep and the records use). An item that does
/// not read back as a record is reported as corrupt, never silently skipped.
enum StoredItems {
    /// The `ByUpdate` index spreads sessions over this many partitions (`all#0` … `all#7`), so
    /// that a fleet's appends, which each move a session in that index, do not all land on
    /// one index partition. Listing reads every shard and merges.
    static let listShards = 8

    static func listScope(shard: Int) -> DynamoDBValue { .string("all#\(shard)") }

    /// A session's shard: FNV-1a of its id, stable across processes (unlike `hashValue`).
    static func listShard(of id: SessionID) -> Int {
        var hash: UInt32 = 2_166_136_261
        for byte in id.rawValue.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int(hash % UInt32(listShards))
    }

    static func millis(_ date: Date) -> DynamoDBValue { .int(date.millis) }
    static func seconds(_ date: Date) -> DynamoDBValue { .int(Int64(date.timeIntervalSince1970.rounded(.up))) }

    /// The session lists' sort key: newest first by time, then by id, as the other stores order.
    static func updatedKey(_ date: Date, _ id: SessionID) -> String {
        paddedMillis(date) + "#" + id.rawValue
    }

    static func paddedMillis(_ date: Date) -> String {
        let digits = String(max(0, date.millis))
        return String(repeating: "0", count: max(0, 13 - digits.count)) + digits
    }

    // MARK: Sessions

    /// A session's owner as items hold it: absent for `nil` and for the empty string (an index
    /// key cannot be empty), so both mean the local user here.
    static func owner(_ owner: String?) -> String? {
        owner.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A new session's item; `messageCount` and `lastTimestamp` order its messages.
    static func sessionItem(_ session: SessionRecord, messageCount: Int, lastTimestamp: Int64, retention: TimeInterval) -> DynamoDBItem {
        var item: DynamoDBItem = [
            "sessionId": .string(session.id.rawValue),
            "agent": .string(session.agent),
            "title": .string(session.title),
            "createdAt": millis(session.createdAt),
            "updatedAt": millis(session.updatedAt),
            "updatedKey": .string(updatedKey(session.updatedAt, session.id)),
            "listScope": listScope(shard: listShard(of: session.id)),
            "messageCount": .int(messageCount),
            "lastTimestamp": .int(lastTimestamp),
            "expireAt": seconds(session.updatedAt.addingTimeInterval(retention)),
        ]
        if let owner = owner(session.owner) { item["owner"] = .string(owner) }
        if let leaf = session.currentLeaf { item["leaf"] = .int(leaf) }
        return item
    }

    static func session(_ item: DynamoDBItem) throws -> SessionRecord {
        let id = item["sessionId"]?.stringValue ?? "?"
        guard let agent = item["agent"]?.stringValue, let title = item["title"]?.stringValue,
            let created = item["createdAt"]?.intValue, let updated = item["updatedAt"]?.intValue,
            let sessionID = try? SessionID(validating: id, maxLength: SessionID.maxStoredLength)
        else { throw StoreCorruption(row: "session \(id)", problem: "the session item lacks agent, title, times or a valid id") }
        return SessionRecord(
            id: sessionID, agent: agent, title: title, owner: owner(item["owner"]?.stringValue),
            createdAt: Date(millis: created), updatedAt: Date(millis: updated), currentLeaf: item["leaf"]?.intValue.map(Int.init)
        )
    }

    // MARK: Messages

    /// A message's item. `content` is its plain text (seed 002's attribute, for people reading
    /// the table); `blocks` is the JSON of its content blocks, which is what Kaiwa reads.
    static func messageItem(_ record: MessageRecord, timestamp: Int64, retention: TimeInterval) -> DynamoDBItem {
        var item: DynamoDBItem = [
            "sessionId": .string(record.sessionID.rawValue),
            "timestamp": .int(timestamp),
            "seq": .int(record.sequence),
            "messageId": .string(record.id),
            "role": .string(record.role.rawValue),
            "content": .string(readableText(record.content.plainText)),
            "blocks": .string(JSONText.encode(record.content)),
            "status": .string(record.status.rawValue),
            "createdAt": millis(record.createdAt),
            "expireAt": seconds(record.createdAt.addingTimeInterval(retention)),
        ]
        // 0 for a first message; items from before branches have no `parent` and follow the message before them.
        item["parent"] = .int(record.parentSequence ?? 0)
        if let model = record.model { item["model"] = .string(model) }
        if let usage = record.usage {
            item["inputTokens"] = .int(usage.inputTokens)
            item["outputTokens"] = .int(usage.outputTokens)
        }
        if let cost = record.costUSD, cost.isFinite { item["costUSD"] = .number(String(cost)) }
        return item
    }

    /// Seed 002's `content`, for people: the text, cut at 4,096 characters so that a long
    /// message does not take its item's 400 KB twice (`blocks` keeps all of it).
    static func readableText(_ text: String) -> String {
        text.count <= 4096 ? text : String(text.prefix(4096)) + "…"
    }

    static func message(_ item: DynamoDBItem) throws -> MessageRecord {
        let id = item["messageId"]?.stringValue ?? "?"
        func corrupt(_ problem: String) -> StoreCorruption { StoreCorruption(row: "message \(id)", problem: problem) }
        guard let session = item["sessionId"]?.stringValue, let sequence = item["seq"]?.intValue,
            let created = item["createdAt"]?.intValue, let blocks = item["blocks"]?.stringValue
        else { throw corrupt("the message item lacks its session, position, time or blocks") }
        guard let role = item["role"]?.stringValue.flatMap(Role.init(rawValue:)) else { throw corrupt("unknown role") }
        guard let status = item["status"]?.stringValue.flatMap(MessageStatus.init(rawValue:)) else { throw corrupt("unknown status") }
        let content = try StoredContent.decode(blocks, row: "message \(id)")
        let usage = item["inputTokens"]?.intValue.flatMap { input in
            item["outputTokens"]?.intValue.map { TokenUsage(inputTokens: Int(input), outputTokens: Int($0)) }
        }
        return MessageRecord(
            id: id, sessionID: SessionID(trusted: session), sequence: Int(sequence), role: role, content: content,
            model: item["model"]?.stringValue, status: status, usage: usage,
            costUSD: item["costUSD"].flatMap { if case .number(let text) = $0 { Double(text) } else { nil } }.flatMap { $0.isFinite ? $0 : nil },
            createdAt: Date(millis: created),
            parentSequence: item["parent"].map { $0.intValue.flatMap { $0 > 0 ? Int($0) : nil } } ?? (sequence > 1 ? Int(sequence) - 1 : nil)
        )
    }

    // MARK: Connections

    static func connectionItem(_ connection: ConnectionRecord) -> DynamoDBItem {
        var item: DynamoDBItem = [
            "connectionId": .string(connection.id),
            "createdAt": millis(connection.createdAt),
            "expiresAtMillis": millis(connection.expiresAt),
            "expireAt": seconds(connection.expiresAt),
        ]
        if let session = connection.sessionID { item["sessionId"] = .string(session.rawValue) }
        return item
    }

    static func connection(_ item: DynamoDBItem) throws -> ConnectionRecord {
        guard let id = item["connectionId"]?.stringValue, let created = item["createdAt"]?.intValue,
            let expires = item["expiresAtMillis"]?.intValue ?? item["expireAt"]?.intValue.map({ $0 * 1000 })
        else { throw StoreCorruption(row: "connection", problem: "the connection item lacks its id or times") }
        return ConnectionRecord(
            id: id, sessionID: item["sessionId"]?.stringValue.map(SessionID.init(trusted:)),
            createdAt: Date(millis: created), expiresAt: Date(millis: expires)
        )
    }

    // MARK: Reply events

    static let eventsKeyPrefix = "events#"
    static let stopKeyPrefix = "stop#"
    /// The item that says which reply may write in the session now.
    static let claimKey = "claim"

    /// A batch's sort key: newest batch last, so the latest reply is one query away.
    static func replyBatchItem(_ batch: ReplyEventBatch) -> DynamoDBItem {
        let firstSequence = String(batch.events.first?.sequence ?? 0)
        let paddedSequence = String(repeating: "0", count: max(0, 10 - firstSequence.count)) + firstSequence
        return [
            "sessionId": .string(batch.sessionID.rawValue),
            "eventKey": .string(eventsKeyPrefix + paddedMillis(batch.createdAt) + "#" + paddedSequence),
            "replyId": .string(batch.replyID),
            "events": .string("[" + batch.events.map(\.jsonText).joined(separator: ",") + "]"),
            "createdAt": millis(batch.createdAt),
            "expiresAtMillis": millis(batch.expiresAt),
            "expireAt": seconds(batch.expiresAt),
        ]
    }

    static func replyEvents(_ item: DynamoDBItem) throws -> [SequencedChatEvent] {
        let reply = item["replyId"]?.stringValue ?? "?"
        guard let json = item["events"]?.stringValue else {
            throw StoreCorruption(row: "reply \(reply)", problem: "the batch has no events")
        }
        do {
            return try JSONDecoder().decode([SequencedChatEvent].self, from: Data(json.utf8))
        } catch {
            throw StoreCorruption(row: "reply \(reply)", problem: "events are unreadable: \(error)")
        }
    }
}
