import KaiwaAWS
import KaiwaCore
import KaiwaStore

/// Renaming, and search as DynamoDB allows it without another service: a bounded scan. A
/// search reads the owner's `searchedSessions` most recent sessions (newest first, through the
/// owner's index) and, for each whose title does not match, its `searchedMessages` most recent
/// messages. Older conversations are not found; a large deployment would index message text
/// elsewhere (OpenSearch fed from a DynamoDB stream) and look there instead.
extension DynamoDBChatStore {
    /// The most recent sessions a search looks at.
    public static var searchedSessions: Int { 200 }
    /// The most recent messages of each session a search reads.
    public static var searchedMessages: Int { 200 }

    public func renameSession(_ id: SessionID, owner: String?, title: String) async throws -> SessionRecord? {
        try await updateOwnedSession(id, owner: owner, set: "#title = :title", .init(names: ["#title": "title"], values: [":title": .string(title)]))
    }

    public func setCurrentLeaf(_ leaf: Int, of id: SessionID, owner: String?) async throws -> SessionRecord? {
        try await updateOwnedSession(id, owner: owner, set: "#leaf = :leaf", .init(names: ["#leaf": "leaf"], values: [":leaf": .int(leaf)]))
    }

    /// Sets attributes of the session if `owner` owns it; `nil` when there is no such session of that owner.
    private func updateOwnedSession(
        _ id: SessionID, owner: String?, set assignments: String, _ placeholders: DynamoDBClient.Placeholders
    ) async throws -> SessionRecord? {
        var (condition, all) = Self.ownerCondition(owner)
        all.names = (all.names ?? [:]).merging(placeholders.names ?? [:]) { $1 }
        all.values = (all.values ?? [:]).merging(placeholders.values ?? [:]) { $1 }
        do {
            let item = try await client.updateItem(
                .init(table: tables.sessions, key: sessionKey(id), update: "SET " + assignments, condition: "attribute_exists(sessionId) AND " + condition, all)
            )
            return try item.map(StoredItems.session)
        } catch let error as DynamoDBError where error.kind == .conditionalCheckFailed {
            return nil
        }
    }

    public func searchSessions(owner: String?, matching query: String, limit: Int) async throws -> [SessionSearchHit] {
        guard limit > 0 else { return [] }
        var hits: [SessionSearchHit] = []
        var cursor: SessionCursor?
        var looked = 0
        while looked < Self.searchedSessions && hits.count < limit {
            let wanted = min(50, Self.searchedSessions - looked)
            let page = try await listSessions(owner: owner, limit: wanted, after: cursor)
            looked += page.count
            // Eight sessions' messages are read at once; hits keep the sessions' order.
            for batch in stride(from: 0, to: page.count, by: 8).map({ Array(page[$0..<min($0 + 8, page.count)]) }) {
                let found = try await withThrowingTaskGroup(of: (Int, SessionSearchHit?).self) { group in
                    for (position, session) in batch.enumerated() {
                        group.addTask { (position, try await hit(in: session, query)) }
                    }
                    var found: [(Int, SessionSearchHit?)] = []
                    for try await answer in group { found.append(answer) }
                    return found.sorted { $0.0 < $1.0 }.compactMap(\.1)
                }
                hits += found
                if hits.count >= limit { return Array(hits.prefix(limit)) }
            }
            guard let last = page.last, page.count == wanted else { break }
            cursor = SessionCursor(updatedAt: last.updatedAt, id: last.id)
        }
        return hits
    }

    private func hit(in session: SessionRecord, _ query: String) async throws -> SessionSearchHit? {
        if SessionSearch.matches(session.title, query) {
            return SessionSearchHit(session: session, snippet: SessionSearch.snippet(of: session.title, around: query))
        }
        let messages = try await messages(in: session.id, before: nil, limit: Self.searchedMessages)
        guard let message = messages.first(where: { SessionSearch.matches($0.content.plainText, query) }) else { return nil }
        return SessionSearchHit(session: session, snippet: SessionSearch.snippet(of: message.content.plainText, around: query))
    }
}
