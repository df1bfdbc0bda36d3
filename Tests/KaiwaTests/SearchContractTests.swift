import Foundation
import GRDB
import KaiwaCore
@testable import KaiwaStore
import Testing

/// Rename and search, the same on every store: the owner's conversations by title and message
/// text, Japanese without spaces included, newest first, with a snippet around the match.
struct SearchContractTests {
    typealias Kind = StoreContractTests.Kind
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func conversation(
        _ store: any ChatStore, _ id: String, title: String, owner: String? = "alice", minutes: Double, _ texts: [String]
    ) async throws {
        let time = t0.addingTimeInterval(minutes * 60)
        let session = SessionRecord(id: SessionID(trusted: id), agent: "assistant", title: title, owner: owner, createdAt: time, updatedAt: time)
        let messages = texts.enumerated().map { index, text in
            NewMessage(role: index % 2 == 0 ? .user : .assistant, content: [.text(text)], createdAt: time.addingTimeInterval(Double(index)))
        }
        _ = try await store.openSession(session, appending: messages)
    }

    func fill(_ store: any ChatStore) async throws {
        try await conversation(store, "travel", title: "京都の旅", minutes: 1, ["週末に京都へ行きます", "紅葉がきれいな季節ですね"])
        try await conversation(
            store, "events", title: "イベント探し", minutes: 2,
            ["来月のTypeScriptカンファレンスを探しています", "TSKaigi 2026 があります。技術カンファレンスとしては最大級です。"]
        )
        try await conversation(store, "swift", title: "Swift concurrency", minutes: 3, ["How do actors work?", "An actor protects its state."])
        try await conversation(store, "bob", title: "Bob's conference", owner: "bob", minutes: 4, ["カンファレンス for bob"])
        try await conversation(store, "local", title: "カンファレンス (local)", owner: nil, minutes: 5, ["local notes"])
    }

    @Test(arguments: Kind.allCases)
    func japaneseWithoutSpacesIsFoundInsideALongerSentenceNewestFirst(kind: Kind) async throws {
        let store = try await kind.make()
        try await fill(store)
        let hits = try await store.searchSessions(owner: "alice", matching: "カンファレンス", limit: 10)
        #expect(hits.map(\.session.id.rawValue) == ["events"])
        #expect(hits.first?.snippet.contains("TypeScriptカンファレンス") == true)
        // Two characters (below a trigram) are found too.
        #expect(try await store.searchSessions(owner: "alice", matching: "紅葉", limit: 10).map(\.session.id.rawValue) == ["travel"])
        // Other owners' conversations and the local user's stay out, and theirs are theirs.
        #expect(try await store.searchSessions(owner: "bob", matching: "カンファレンス", limit: 10).map(\.session.id.rawValue) == ["bob"])
        #expect(try await store.searchSessions(owner: nil, matching: "カンファレンス", limit: 10).map(\.session.id.rawValue) == ["local"])
    }

    @Test(arguments: Kind.allCases)
    func englishIgnoresCaseAndTitlesMatchFirst(kind: Kind) async throws {
        let store = try await kind.make()
        try await fill(store)
        let hits = try await store.searchSessions(owner: "alice", matching: "ACTOR", limit: 10)
        #expect(hits.map(\.session.id.rawValue) == ["swift"])
        #expect(hits.first?.snippet == "How do actors work?")
        let titled = try await store.searchSessions(owner: "alice", matching: "concurrency", limit: 10)
        #expect(titled.first?.snippet == "Swift concurrency")
        // Several sessions, newest first, and the limit holds.
        let all = try await store.searchSessions(owner: "alice", matching: "す", limit: 10)
        #expect(all.map(\.session.id.rawValue) == ["events", "travel"])
        #expect(try await store.searchSessions(owner: "alice", matching: "す", limit: 1).count == 1)
        // Characters that mean something to SQL or FTS are just characters.
        for odd in ["\"", "%", "_", "a\"b OR c", "NEAR(", "*"] {
            #expect(try await store.searchSessions(owner: "alice", matching: odd, limit: 10).isEmpty, "\(odd)")
        }
    }

    @Test(arguments: Kind.allCases)
    func renamingIsTheOwnersAndIsFoundBySearch(kind: Kind) async throws {
        let store = try await kind.make()
        try await fill(store)
        let id = SessionID(trusted: "travel")
        #expect(try await store.renameSession(id, owner: "bob", title: "stolen") == nil)
        #expect(try await store.renameSession(SessionID(trusted: "nope"), owner: "alice", title: "x") == nil)
        let renamed = try #require(try await store.renameSession(id, owner: "alice", title: "秋の京都旅行"))
        #expect(renamed.title == "秋の京都旅行")
        #expect(try await store.session(id)?.title == "秋の京都旅行")
        #expect(try await store.searchSessions(owner: "alice", matching: "秋の京都", limit: 10).map(\.session.id.rawValue) == ["travel"])
        #expect(try await store.searchSessions(owner: "alice", matching: "京都の旅", limit: 10).isEmpty)
    }

    @Test(arguments: Kind.allCases)
    func deletedAndSweptConversationsAreNoLongerFound(kind: Kind) async throws {
        let store = try await kind.make()
        try await fill(store)
        #expect(try await store.deleteSession(SessionID(trusted: "events"), owner: "alice"))
        #expect(try await store.searchSessions(owner: "alice", matching: "カンファレンス", limit: 10).isEmpty)
        _ = try await store.sweep(before: t0.addingTimeInterval(2.5 * 60))
        #expect(try await store.searchSessions(owner: "alice", matching: "京都", limit: 10).isEmpty)
        #expect(try await store.searchSessions(owner: "alice", matching: "actor", limit: 10).map(\.session.id.rawValue) == ["swift"])
    }

    /// A common word (more than a thousand matching messages) takes SQLite's other way: the
    /// owner's sessions newest first. The answer is the same.
    @Test func aWordInThousandsOfMessagesIsFoundNewestFirstOnSQLite() async throws {
        let store = try await Kind.sqlite.make()
        for number in 0..<120 {
            let texts = (0..<10).map { "第\($0)回 カンファレンスの話 \(number)" }
            try await conversation(store, "c\(number)", title: "会話 \(number)", owner: number % 3 == 0 ? "bob" : "alice", minutes: Double(number), texts)
        }
        let hits = try await store.searchSessions(owner: "alice", matching: "カンファレンス", limit: 5)
        #expect(hits.map(\.session.id.rawValue) == ["c119", "c118", "c116", "c115", "c113"])
        #expect(hits.first?.snippet == "第0回 カンファレンスの話 119")
        #expect(try await store.searchSessions(owner: "bob", matching: "カンファレンス", limit: 100).count == 40)
        #expect(try await store.searchSessions(owner: "alice", matching: "の話", limit: 100).count == 80)
    }

    /// A common word found only in older conversations: the walk from the newest gives up after
    /// its budget of rows and the index answers, with the same order and snippets.
    @Test func aCommonWordOnlyInOldConversationsIsStillFoundNewestFirstOnSQLite() async throws {
        let store = try await Kind.sqlite.make()
        for number in 0..<110 {
            let texts = (0..<10).map { "第\($0)回 カンファレンスの話 \(number)" }
            try await conversation(store, "old\(number)", title: "会話 \(number)", minutes: Double(number), texts)
        }
        for number in 0..<(SQLiteSessionSearch.rowBudget / 10 + 10) {
            try await conversation(store, "new\(number)", title: "雑談 \(number)", minutes: Double(1000 + number), (0..<10).map { "天気の話 \($0)" })
        }
        let hits = try await store.searchSessions(owner: "alice", matching: "カンファレンス", limit: 3)
        #expect(hits.map(\.session.id.rawValue) == ["old109", "old108", "old107"])
        #expect(hits.first?.snippet == "第0回 カンファレンスの話 109")
        #expect(try await store.searchSessions(owner: "alice", matching: "天気の話", limit: 1).map(\.session.id.rawValue) == ["new259"])
    }

    /// Writes only note what is new; the indexer moves it into the index in one batch.
    @Test func sqliteIndexesWhatWasWrittenInBatches() async throws {
        let store = try SQLiteChatStore(path: makeTemporaryDirectory().appendingPathComponent("k.sqlite").path)
        try await fill(store)
        #expect(try await store.indexPendingSearchRows() == 13)  // 5 titles and 8 messages
        #expect(try await store.indexPendingSearchRows() == 0)
        _ = try await store.renameSession(SessionID(trusted: "travel"), owner: "alice", title: "秋の旅")
        #expect(try await store.indexPendingSearchRows() == 1)
        #expect(try await store.searchSessions(owner: "alice", matching: "秋の旅", limit: 5).map(\.session.id.rawValue) == ["travel"])
    }

    /// `kaiwa export` reads every owner's conversations, page by page.
    @Test(arguments: Kind.allCases)
    func everyOwnersSessionsAreListedNewestFirstInPages(kind: Kind) async throws {
        let store = try await kind.make()
        try await fill(store)
        let first = try await store.listAllSessions(limit: 3, after: nil)
        #expect(first.map(\.id.rawValue) == ["local", "bob", "swift"])
        let rest = try await store.listAllSessions(limit: 3, after: SessionCursor(updatedAt: first[2].updatedAt, id: first[2].id))
        #expect(rest.map(\.id.rawValue) == ["events", "travel"])
    }

    /// A database made before search existed is indexed by the migration.
    @Test func aDatabaseFromBeforeSearchIsIndexedWhenOpened() async throws {
        let path = try makeTemporaryDirectory().appendingPathComponent("old.sqlite").path
        do {
            let queue = try DatabaseQueue(path: path)
            // The schema as the previous version left it.
            try SQLiteSchema.migrator.migrate(queue, upTo: "v7: reply cost")
            try await queue.write { db in
                try db.execute(sql: "INSERT INTO sessions VALUES ('old', 'assistant', '昔の会話', 'alice', 1, 2)")
                try db.execute(
                    sql: "INSERT INTO messages (session_id, seq, id, role, content, status, created_at) VALUES ('old', 1, 'm1', 'user', ?, 'complete', 1)",
                    arguments: [#"[{"type":"text","text":"古いメッセージのカンファレンス"}]"#]
                )
            }
        }
        let store = try SQLiteChatStore(path: path)
        #expect(try await store.searchSessions(owner: "alice", matching: "カンファレンス", limit: 10).map(\.session.id.rawValue) == ["old"])
        #expect(try await store.searchSessions(owner: "alice", matching: "昔の", limit: 10).first?.snippet == "昔の会話")
    }
}
