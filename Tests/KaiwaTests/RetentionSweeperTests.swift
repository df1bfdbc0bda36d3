import Foundation
import KaiwaCore
import KaiwaStore
import Logging
import Testing

struct RetentionSweeperTests {
    @Test func historyOlderThanTheRetentionPeriodIsSweptAndNewerHistoryKept() async throws {
        let clock = TestClock()
        let store = try SQLiteChatStore(path: makeTemporaryDirectory().appendingPathComponent("kaiwa.sqlite").path)
        let sweeper = RetentionSweeper(
            store: store, retention: .seconds(7 * 24 * 3600), interval: .seconds(600), clock: clock, logger: Logger(label: "test")
        )
        let old = SessionID(trusted: "last-week")
        _ = try await store.createSessionIfAbsent(
            SessionRecord(id: old, agent: "assistant", title: "old", createdAt: clock.now(), updatedAt: clock.now())
        )
        _ = try await store.appendMessage(NewMessage(role: .user, content: [.text("old")], createdAt: clock.now()), to: old)

        clock.advance(seconds: 6 * 24 * 3600)
        let recent = SessionID(trusted: "yesterday")
        _ = try await store.createSessionIfAbsent(
            SessionRecord(id: recent, agent: "assistant", title: "recent", createdAt: clock.now(), updatedAt: clock.now())
        )
        #expect(try await sweeper.sweepOnce() == SweepResult(sessions: 0, messages: 0))

        clock.advance(seconds: 1 * 24 * 3600 + 1)
        #expect(try await sweeper.sweepOnce() == SweepResult(sessions: 1, messages: 1))
        #expect(try await store.session(old) == nil)
        #expect(try await store.session(recent) != nil)
    }
}
