import KaiwaAWS

/// Kaiwa's five tables, named `<prefix>Connections`, `<prefix>ChatHistory`,
/// `<prefix>ChatSessions`, `<prefix>ReplyEvents` and `<prefix>Access`. The first two keep seed 002's keys and
/// attributes; every table has a `expireAt` time-to-live attribute (epoch seconds).
public struct DynamoDBTables: Sendable, Hashable {
    public var prefix: String

    public init(prefix: String = "") {
        self.prefix = prefix
    }

    /// WebSocket connections: `connectionId` → `sessionId`, `createdAt`, `expireAt` (24 h).
    public var connections: String { prefix + "Connections" }
    /// Messages: partition `sessionId`, sort `timestamp` (epoch milliseconds, made unique and
    /// increasing within a session, so two messages of one millisecond are both kept in order).
    public var history: String { prefix + "ChatHistory" }
    /// One item per conversation: title, agent, owner, times, and the message counter that
    /// orders concurrent appends from any instance.
    public var sessions: String { prefix + "ChatSessions" }
    /// Reply events kept for resuming a stream (`events#…`), and stop requests (`stop#…`).
    public var replyEvents: String { prefix + "ReplyEvents" }
    /// API keys (`apikey#<id>`), WebSocket tickets (`ticket#<hash>`), rate-limit buckets
    /// (`bucket#…`), usage counters (`counter#…`) and reply slots (`slot#…#<n>`), by `id`.
    public var access: String { prefix + "Access" }

    /// Lists every session newest first (partitions `listScope` = `all#0` … `all#7`).
    public static let sessionsByUpdate = "ByUpdate"
    /// Lists an owner's sessions newest first; only sessions with an owner appear.
    public static let sessionsByOwner = "ByOwner"
    public static let timeToLiveAttribute = "expireAt"

    public var definitions: [DynamoDBClient.TableDefinition] {
        typealias Key = DynamoDBClient.TableDefinition.Key
        let updatedKey = Key("updatedKey", .string)
        return [
            .init(name: connections, partitionKey: Key("connectionId", .string), timeToLiveAttribute: Self.timeToLiveAttribute),
            .init(
                name: history, partitionKey: Key("sessionId", .string), sortKey: Key("timestamp", .number),
                timeToLiveAttribute: Self.timeToLiveAttribute
            ),
            .init(
                name: sessions, partitionKey: Key("sessionId", .string),
                indexes: [
                    .init(name: Self.sessionsByUpdate, partitionKey: Key("listScope", .string), sortKey: updatedKey),
                    .init(name: Self.sessionsByOwner, partitionKey: Key("owner", .string), sortKey: updatedKey),
                ],
                timeToLiveAttribute: Self.timeToLiveAttribute
            ),
            .init(
                name: replyEvents, partitionKey: Key("sessionId", .string), sortKey: Key("eventKey", .string),
                timeToLiveAttribute: Self.timeToLiveAttribute
            ),
            .init(name: access, partitionKey: Key("id", .string), timeToLiveAttribute: Self.timeToLiveAttribute),
        ]
    }

    /// Creates the tables that do not exist and enables time to live on each; safe to run
    /// again. Returns one line per table saying what was done.
    public func create(using client: DynamoDBClient) async throws -> [String] {
        var report: [String] = []
        for table in definitions {
            var line: String
            if try await client.describeTable(table.name) == nil {
                do {
                    try await client.createTable(table)
                    line = "\(table.name): created"
                } catch let error as DynamoDBError where error.kind == .resourceInUse {
                    line = "\(table.name): already exists"
                }
                try await waitUntilActive(table.name, client: client)
            } else {
                line = "\(table.name): already exists"
            }
            if let attribute = table.timeToLiveAttribute {
                if try await client.isTimeToLiveEnabled(table: table.name, attribute: attribute) {
                    line += ", time to live on \(attribute) already enabled"
                } else {
                    try await client.enableTimeToLive(table: table.name, attribute: attribute)
                    line += ", time to live enabled on \(attribute)"
                }
            }
            report.append(line)
        }
        return report
    }

    private func waitUntilActive(_ name: String, client: DynamoDBClient) async throws {
        for _ in 0..<120 {
            if try await client.describeTable(name)?.status == "ACTIVE" { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw DynamoDBStoreError("Table \(name) did not become ACTIVE within a minute.")
    }

    /// What is missing for Kaiwa to run: tables that do not exist, indexes they lack, tables
    /// not yet active. Empty when everything is in place. The tables are asked about at once
    /// (this is on every cold start's path).
    public func problems(using client: DynamoDBClient) async throws -> [String] {
        try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            for (position, table) in definitions.enumerated() {
                group.addTask { (position, try await Self.problems(of: table, using: client)) }
            }
            var found: [(Int, [String])] = []
            for try await answer in group { found.append(answer) }
            return found.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
    }

    private static func problems(of table: DynamoDBClient.TableDefinition, using client: DynamoDBClient) async throws -> [String] {
        guard let description = try await client.describeTable(table.name) else {
            return ["table \(table.name) does not exist"]
        }
        var problems: [String] = []
        for index in table.indexes where !description.indexNames.contains(index.name) {
            problems.append("table \(table.name) has no index \(index.name)")
        }
        if description.status != "ACTIVE" && description.status != "UPDATING" {
            problems.append("table \(table.name) is \(description.status)")
        }
        return problems
    }
}

/// A DynamoDB store that cannot be used as it is (missing tables, unreadable items).
public struct DynamoDBStoreError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) {
        self.description = description
    }
}
