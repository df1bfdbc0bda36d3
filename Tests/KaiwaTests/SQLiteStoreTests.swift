import Foundation
import KaiwaCore
import GRDB
@testable import KaiwaStore
import Testing

struct SQLiteStoreTests {
    @Test func historySurvivesClosingAndReopeningTheFile() async throws {
        let path = try makeTemporaryDirectory().appendingPathComponent("kaiwa.sqlite").path
        let id = SessionID(trusted: "kept")
        let now = Date(timeIntervalSince1970: 1_800_000_000.123)
        do {
            let store = try SQLiteChatStore(path: path)
            _ = try await store.createSessionIfAbsent(
                SessionRecord(id: id, agent: "assistant", title: "Kept", createdAt: now, updatedAt: now)
            )
            _ = try await store.appendMessage(NewMessage(role: .user, content: [.text("こんにちは")], createdAt: now), to: id)
        }
        let reopened = try SQLiteChatStore(path: path)
        #expect(try await reopened.session(id)?.title == "Kept")
        #expect(try await reopened.session(id)?.createdAt == Date(millis: now.millis))
        #expect(try await reopened.messages(in: id).map(\.content.plainText) == ["こんにちは"])
    }

    @Test func openingASessionReturnsWhatIsReadBackForNewAndExistingSessions() async throws {
        let store = try SQLiteChatStore(path: try makeTemporaryDirectory().appendingPathComponent("kaiwa.sqlite").path)
        let id = SessionID(trusted: "opened")
        let t0 = Date(timeIntervalSince1970: 1_800_000_000.5678)
        let t1 = t0.addingTimeInterval(60)
        let first = try await store.openSession(
            SessionRecord(id: id, agent: "assistant", title: "Opened", createdAt: t0, updatedAt: t0),
            appending: [
                NewMessage(role: .user, content: [.text("earlier")], createdAt: t0),
                NewMessage(role: .user, content: [.text("now")], createdAt: t1),
            ]
        )
        #expect(first.session == (try await store.session(id)))
        #expect(first.session.updatedAt == Date(millis: t1.millis))
        #expect(first.messages == (try await store.messages(in: id)))
        #expect(first.messages.map(\.sequence) == [1, 2])

        let again = try await store.openSession(
            SessionRecord(id: id, agent: "other", title: "Ignored", createdAt: t1, updatedAt: t1),
            appending: [NewMessage(role: .user, content: [.text("later")], createdAt: t1.addingTimeInterval(1))]
        )
        #expect(again.session.title == "Opened")
        #expect(again.session == (try await store.session(id)))
        #expect(again.messages.map(\.sequence) == [3])
        #expect(try await store.messages(in: id).map(\.content.plainText) == ["earlier", "now", "later"])
    }

    @Test func opensInWriteAheadLogMode() throws {
        let path = try makeTemporaryDirectory().appendingPathComponent("kaiwa.sqlite").path
        let store = try SQLiteChatStore(path: path)
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(store.kind == "sqlite")
    }

    @Test func aFileThatIsNotADatabaseFailsToOpenWithAnError() throws {
        let path = try makeTemporaryDirectory().appendingPathComponent("kaiwa.sqlite").path
        try Data("this is not sqlite, just text that is long enough to have a header".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: (any Error).self) { try SQLiteChatStore(path: path) }
    }
}

/// A database written before branches existed reads as one straight branch per conversation.
struct SQLiteBranchMigrationTests {
    /// A file in the schema of the version before branches (migrations v1–v8, which never
    /// change once shipped), with rows as that version wrote them: no parents, no current leaf.
    func databaseBeforeBranches() throws -> String {
        let path = try makeTemporaryDirectory().appendingPathComponent("old.sqlite").path
        let queue = try DatabaseQueue(path: path)
        try SQLiteSchema.migrator.migrate(queue, upTo: "v8: search")
        try queue.write { db in
            try db.execute(sql: "INSERT INTO sessions (id, agent, title, owner, created_at, updated_at) VALUES ('old', 'assistant', 'Old', NULL, 1000, 5000)")
            // Messages 1 and 2 were swept by retention long ago; 3 to 6 remain.
            for (seq, role, text) in [(3, "user", "Q2"), (4, "assistant", "A2"), (5, "user", "Q3"), (6, "assistant", "A3")] {
                try db.execute(
                    sql: "INSERT INTO messages (session_id, seq, id, role, content, status, created_at) VALUES ('old', ?, ?, ?, ?, 'complete', ?)",
                    arguments: [seq, "m\(seq)", role, JSONText.encode([ContentBlock.text(text)]), seq * 1000]
                )
            }
        }
        try queue.close()
        return path
    }

    @Test func aHistoryFromBeforeBranchesIsOneStraightBranchAndGoesOn() async throws {
        let store = try SQLiteChatStore(path: try databaseBeforeBranches())
        let id = SessionID(trusted: "old")
        let tree = ConversationTree(try await store.messages(in: id))
        #expect(tree.messages.map(\.parentSequence) == [nil, 3, 4, 5])
        let session = try #require(try await store.session(id))
        #expect(session.currentLeaf == nil)
        #expect(tree.path(to: tree.leaf(session.currentLeaf)).map(\.content.plainText) == ["Q2", "A2", "Q3", "A3"])
        #expect(try await store.path(in: id, to: 6, limit: 50).count == 4)
        // The next message follows the last one; an edit of Q3 becomes its sibling.
        let next = try await store.appendMessage(NewMessage(role: .user, content: [.text("Q4")], createdAt: Date(millis: 7000)), to: id)
        #expect(next.parentSequence == 6)
        let edit = try await store.appendMessage(NewMessage(role: .user, content: [.text("Q3′")], createdAt: Date(millis: 8000), parent: .after(4)), to: id)
        let after = ConversationTree(try await store.messages(in: id))
        #expect(after.siblings(of: edit).map(\.content.plainText) == ["Q3", "Q3′"])
        #expect(try await store.session(id)?.currentLeaf == edit.sequence)
    }
}
