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
