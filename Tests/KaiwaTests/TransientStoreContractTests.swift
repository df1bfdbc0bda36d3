import Foundation
import KaiwaCore
import KaiwaStore
import Testing

/// Connections, reply events and stop requests: the short-lived part every store keeps, run
/// against each implementation.
struct TransientStoreContractTests {
    typealias Kind = StoreContractTests.Kind

    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let session = SessionID(trusted: "s1")

    func batch(_ reply: String, _ range: ClosedRange<Int>, at time: Date, expiresIn seconds: TimeInterval = 600, final: Bool = false) -> ReplyEventBatch {
        let events = range.map { sequence in
            SequencedChatEvent(
                sequence: sequence,
                event: final && sequence == range.upperBound
                    ? .done(messageID: "m-\(reply)", response: "all", stopped: false) : .delta(text: "\(reply)-\(sequence)")
            )
        }
        return ReplyEventBatch(sessionID: session, replyID: reply, events: events, createdAt: time, expiresAt: time.addingTimeInterval(seconds))
    }

    @Test(arguments: Kind.allCases)
    func connectionsAreSavedReplacedReadAndDeleted(kind: Kind) async throws {
        let store = try await kind.make()
        let first = ConnectionRecord(id: "c1", createdAt: t0, expiresAt: t0.addingTimeInterval(86_400))
        try await store.saveConnection(first)
        #expect(try await store.connection("c1") == first)
        var moved = first
        moved.sessionID = session
        try await store.saveConnection(moved)
        #expect(try await store.connection("c1") == moved)
        try await store.deleteConnection("c1")
        #expect(try await store.connection("c1") == nil)
        #expect(try await store.connection("never") == nil)
    }

    @Test(arguments: Kind.allCases)
    func resumingReadsTheLatestReplysEventsAfterTheLastSeen(kind: Kind) async throws {
        let store = try await kind.make()
        #expect(try await store.replyEvents(in: session, after: 0) == nil)
        try await store.appendReplyEvents([batch("old", 1...3, at: t0, final: true)])
        try await store.appendReplyEvents([batch("new", 1...2, at: t0.addingTimeInterval(10))])
        try await store.appendReplyEvents([batch("new", 3...5, at: t0.addingTimeInterval(11))])

        let running = try #require(try await store.replyEvents(in: session, after: 2))
        #expect(running.replyID == "new")
        #expect(running.events.map(\.sequence) == [3, 4, 5])
        #expect(!running.isFinished)

        _ = try await store.createSessionIfAbsent(
            SessionRecord(id: session, agent: "assistant", title: "t", createdAt: t0, updatedAt: t0)
        )
        _ = try await store.appendMessages(
            [NewMessage(role: .assistant, content: [.text("all")], createdAt: t0.addingTimeInterval(12))], to: session,
            replyEvents: [batch("new", 6...7, at: t0.addingTimeInterval(12), final: true)]
        )
        let finished = try #require(try await store.replyEvents(in: session, after: 0))
        #expect(finished.events.map(\.sequence) == Array(1...7))
        #expect(finished.isFinished)
        #expect(try await store.messages(in: session).count == 1)

        let seenAll = try #require(try await store.replyEvents(in: session, after: 7))
        #expect(seenAll.events.isEmpty)
        #expect(seenAll.isFinished, "a reader who has seen the last event must learn that the reply is over")
    }

    @Test(arguments: Kind.allCases)
    func aStopRequestReachesOnlyTheReplyItNames(kind: Kind) async throws {
        let store = try await kind.make()
        #expect(try await store.isStopRequested(ofReply: "r1", in: session) == false)
        try await store.requestStop(ofReply: "r1", in: session, expiresAt: t0.addingTimeInterval(300))
        #expect(try await store.isStopRequested(ofReply: "r1", in: session))
        #expect(try await store.isStopRequested(ofReply: "r2", in: session) == false)
        #expect(try await store.isStopRequested(ofReply: "r1", in: SessionID(trusted: "other")) == false)
    }

    @Test(arguments: Kind.allCases)
    func expiredConnectionsEventsAndStopRequestsAreSweptAndTheRestKept(kind: Kind) async throws {
        let store = try await kind.make()
        try await store.saveConnection(ConnectionRecord(id: "old", createdAt: t0, expiresAt: t0.addingTimeInterval(10)))
        try await store.saveConnection(ConnectionRecord(id: "new", createdAt: t0, expiresAt: t0.addingTimeInterval(1000)))
        try await store.appendReplyEvents([batch("r1", 1...2, at: t0, expiresIn: 10)])
        try await store.requestStop(ofReply: "r1", in: session, expiresAt: t0.addingTimeInterval(10))
        try await store.appendReplyEvents([ReplyEventBatch(
            sessionID: SessionID(trusted: "s2"), replyID: "r9", events: [SequencedChatEvent(sequence: 1, event: .delta(text: "kept"))],
            createdAt: t0, expiresAt: t0.addingTimeInterval(1000)
        )])

        #expect(try await store.sweepExpired(now: t0.addingTimeInterval(100)) == 3)
        #expect(try await store.connection("old") == nil)
        #expect(try await store.connection("new") != nil)
        #expect(try await store.replyEvents(in: session, after: 0) == nil)
        #expect(try await store.isStopRequested(ofReply: "r1", in: session) == false)
        #expect(try await store.replyEvents(in: SessionID(trusted: "s2"), after: 0)?.events.count == 1)
    }
}

/// One reply at a time per session, across instances: the claim every store keeps.
struct SessionClaimContractTests {
    typealias Kind = StoreContractTests.Kind

    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let session = SessionID(trusted: "s1")

    @Test(arguments: Kind.allCases)
    func aSecondReplyCannotClaimTheSessionUntilTheFirstReleasesItOrItsClaimRunsOut(kind: Kind) async throws {
        let store = try await kind.make()
        #expect(try await store.claimSession(session, forReply: "r1", until: t0.addingTimeInterval(30), now: t0))
        #expect(try await store.claimSession(session, forReply: "r2", until: t0.addingTimeInterval(31), now: t0.addingTimeInterval(1)) == false)
        // The holder renews; another session is free.
        #expect(try await store.claimSession(session, forReply: "r1", until: t0.addingTimeInterval(60), now: t0.addingTimeInterval(20)))
        #expect(try await store.claimSession(SessionID(trusted: "s2"), forReply: "r2", until: t0.addingTimeInterval(30), now: t0))
        // Releasing someone else's claim does nothing; the holder's release frees the session.
        try await store.releaseSession(session, fromReply: "r2")
        #expect(try await store.claimSession(session, forReply: "r3", until: t0.addingTimeInterval(90), now: t0.addingTimeInterval(30)) == false)
        try await store.releaseSession(session, fromReply: "r1")
        #expect(try await store.claimSession(session, forReply: "r3", until: t0.addingTimeInterval(90), now: t0.addingTimeInterval(30)))
        // A claim whose holder vanished runs out.
        #expect(try await store.claimSession(session, forReply: "r4", until: t0.addingTimeInterval(200), now: t0.addingTimeInterval(91)))
    }
}
