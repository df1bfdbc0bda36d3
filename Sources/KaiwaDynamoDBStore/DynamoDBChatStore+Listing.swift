import Foundation
import KaiwaAWS
import KaiwaCore
import KaiwaStore

/// Reading sessions through the `ChatSessions` indexes, newest first.
extension DynamoDBChatStore {
    /// An owner's sessions come from the `ByOwner` index, which holds only sessions with an
    /// owner. Sessions without one (the local user's) come from the eight `ByUpdate` partitions
    /// with a filter that drops owned sessions; since DynamoDB filters after it reads, each
    /// partition is read on, page after page, until it has `limit` matches or none is left,
    /// so that a page of the list is full whenever more sessions follow.
    public func listSessions(owner: String?, limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord] {
        try await listSessions(owner: owner, everyOwner: false, limit: limit, after: cursor)
    }

    /// Every session, from the eight `ByUpdate` partitions without a filter.
    public func listAllSessions(limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord] {
        try await listSessions(owner: nil, everyOwner: true, limit: limit, after: cursor)
    }

    private func listSessions(owner: String?, everyOwner: Bool, limit: Int, after cursor: SessionCursor?) async throws -> [SessionRecord] {
        guard limit > 0 else { return [] }
        let owner = everyOwner ? nil : StoredItems.owner(owner)
        var condition = "#partition = :partition"
        var values: DynamoDBItem = [:]
        if let cursor {
            condition += " AND updatedKey < :cursor"
            values[":cursor"] = .string(StoredItems.updatedKey(cursor.updatedAt, cursor.id))
        }
        let queries: [DynamoDBClient.Query] =
            if let owner {
                [
                    .init(
                        table: tables.sessions, index: DynamoDBTables.sessionsByOwner, keyCondition: condition,
                        .init(names: ["#partition": "owner"], values: values.merging([":partition": .string(owner)]) { $1 }),
                        newestFirst: true, limit: limit
                    )
                ]
            } else {
                (0..<StoredItems.listShards).map { shard in
                    .init(
                        table: tables.sessions, index: DynamoDBTables.sessionsByUpdate, keyCondition: condition,
                        filter: everyOwner ? nil : "attribute_not_exists(#owner)",
                        .init(
                            names: everyOwner ? ["#partition": "listScope"] : ["#partition": "listScope", "#owner": "owner"],
                            values: values.merging([":partition": StoredItems.listScope(shard: shard)]) { $1 }
                        ),
                        newestFirst: true, limit: limit
                    )
                }
            }
        let newestPerPartition = try await withThrowingTaskGroup(of: [DynamoDBItem].self) { group in
            for query in queries {
                group.addTask { try await firstMatches(limit, of: query) }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let newest = newestPerPartition.sorted { ($0["updatedKey"]?.stringValue ?? "") > ($1["updatedKey"]?.stringValue ?? "") }
        return try newest.prefix(limit).map(StoredItems.session)
    }

    /// The first `limit` items `query` matches (fewer when there are no more), reading pages
    /// until a filter has let through enough of them.
    private func firstMatches(_ limit: Int, of query: DynamoDBClient.Query) async throws -> [DynamoDBItem] {
        var items: [DynamoDBItem] = []
        var start: DynamoDBItem?
        repeat {
            let page = try await client.queryPage(query, from: start)
            items += page.Items ?? []
            start = page.LastEvaluatedKey
        } while items.count < limit && start != nil
        return Array(items.prefix(limit))
    }

    /// Every session of the `ByUpdate` index whose `updatedKey` meets `condition` (on
    /// `:cutoff`; `filter` may use `:cutoffMillis`), shard by shard.
    func sessionsUpdated(_ condition: String, cutoff: Date, filter: String? = nil) async throws -> [DynamoDBItem] {
        var items: [DynamoDBItem] = []
        for shard in 0..<StoredItems.listShards {
            var values: DynamoDBItem = [":shard": StoredItems.listScope(shard: shard), ":cutoff": .string(StoredItems.paddedMillis(cutoff))]
            if filter != nil { values[":cutoffMillis"] = StoredItems.millis(cutoff) }  // DynamoDB refuses unused values
            items += try await client.queryAll(
                .init(
                    table: tables.sessions, index: DynamoDBTables.sessionsByUpdate, keyCondition: "listScope = :shard AND " + condition,
                    filter: filter, .init(values: values), limit: pageSize
                )
            )
        }
        return items
    }
}
