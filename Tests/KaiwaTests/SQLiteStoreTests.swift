import Foundation
import KaiwaCore
import KaiwaStore
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
