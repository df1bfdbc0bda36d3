import Foundation
import KaiwaCore
import KaiwaStore
import Testing

/// The behaviour every `ChatStore` promises, run against each implementation (DynamoDB is
/// `moto_server` on loopback, with three-item query pages so that reads span pages).
struct StoreContractTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case memory, sqlite, dynamodb
        var testDescription: String { rawValue }

        func make() async throws -> any ChatStore {
            switch self {
            case .memory: InMemoryChatStore()
            case .sqlite: try SQLiteChatStore(path: makeTemporaryDirectory().appendingPathComponent("kaiwa.sqlite").path)
            case .dynamodb: try await MotoServer.makeStoreWithAttachments(pageSize: 3)
            }
        }
    }

    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func session(_ id: String, at time: Date, owner: String? = nil) -> SessionRecord {
        SessionRecord(id: SessionID(trusted: id), agent: "assistant", title: "Title \(id)", owner: owner, createdAt: time, updatedAt: time)
    }

    @Test(arguments: Kind.allCases)
    func createdSessionIsReadBackAndNotReplacedBySecondCreate(kind: Kind) async throws {
        let store = try await kind.make()
        let first = try await store.createSessionIfAbsent(session("s1", at: t0))
        var other = session("s1", at: t0.addingTimeInterval(60))
        other.title = "Another title"
        let second = try await store.createSessionIfAbsent(other)
        #expect(second == first)
        #expect(try await store.session(SessionID(trusted: "s1")) == first)
        #expect(try await store.session(SessionID(trusted: "nope")) == nil)
    }

    @Test(arguments: Kind.allCases)
    func messagesKeepTheirBlocksStatusUsageCostAndOrder(kind: Kind) async throws {
        let store = try await kind.make()
        let id = SessionID(trusted: "s1")
        _ = try await store.createSessionIfAbsent(session("s1", at: t0))
        let blocks: [ContentBlock] = [
            .text("Let me look."),
            .toolUse(id: "t1", name: "search_connpass", input: .object(["keyword": .string("Swift"), "count": .number(3)])),
            .toolResult(toolUseID: "t1", isError: true, content: "timed out"),
        ]
        let first = try await store.appendMessage(NewMessage(role: .user, content: [.text("hi")], createdAt: t0), to: id)
        let second = try await store.appendMessage(
            NewMessage(
                role: .assistant, content: blocks, model: "rules", status: .partial,
                usage: TokenUsage(inputTokens: 10, outputTokens: 4), costUSD: 0.000_123_4, createdAt: t0.addingTimeInterval(1)
            ),
            to: id
        )
        #expect(first.sequence == 1)
        #expect(second.sequence == 2)
        let stored = try await store.messages(in: id)
        #expect(stored == [first, second])
        #expect(stored[1].content == blocks)
        #expect(stored[1].status == .partial)
        #expect(stored[1].usage == TokenUsage(inputTokens: 10, outputTokens: 4))
        #expect(stored[1].model == "rules")
        #expect(stored[1].costUSD == 0.000_123_4)
        #expect(stored[0].costUSD == nil)
        #expect(try await store.session(id)?.updatedAt == t0.addingTimeInterval(1))
    }

    @Test(arguments: Kind.allCases)
    func aLongConversationIsReadPageByPageFromTheNewestMessageBack(kind: Kind) async throws {
        let store = try await kind.make()
        let id = SessionID(trusted: "long")
        _ = try await store.createSessionIfAbsent(session("long", at: t0))
        let written = (1...25).map { NewMessage(role: $0 % 2 == 1 ? .user : .assistant, content: [.text("m\($0)")], createdAt: t0) }
        _ = try await store.appendMessages(written, to: id, replyEvents: [])
        let newest = try await store.messages(in: id, before: nil, limit: 10)
        #expect(newest.map(\.sequence) == Array(16...25))
        let earlier = try await store.messages(in: id, before: 16, limit: 10)
        #expect(earlier.map(\.sequence) == Array(6...15))
        let first = try await store.messages(in: id, before: 6, limit: 10)
        #expect(first.map(\.sequence) == Array(1...5))
        #expect(first.first?.content == [.text("m1")])
        #expect(try await store.messages(in: id, before: 1, limit: 10).isEmpty)
        #expect(try await store.messages(in: SessionID(trusted: "none"), before: nil, limit: 10).isEmpty)
    }

    @Test(arguments: Kind.allCases)
    func appendingToAMissingSessionIsNotFoundAndWritesNothing(kind: Kind) async throws {
        let store = try await kind.make()
        let ghost = SessionID(trusted: "ghost")
        let events = ReplyEventBatch(
            sessionID: ghost, replyID: "r1", events: [SequencedChatEvent(sequence: 1, event: .session(id: "ghost"))],
            createdAt: t0, expiresAt: t0.addingTimeInterval(600)
        )
        let error = await #expect(throws: KaiwaError.self) {
            try await store.appendMessages(
                [NewMessage(role: .assistant, content: [.text("hi")], createdAt: t0)], to: ghost, replyEvents: [events]
            )
        }
        #expect(error?.code == .notFound)
        #expect(try await store.session(ghost) == nil)
        #expect(try await store.messages(in: ghost).isEmpty)
        #expect(try await store.replyEvents(in: ghost, after: 0) == nil)
    }

    @Test(arguments: Kind.allCases)
    func concurrentAppendsToOneSessionGetDistinctGaplessPositions(kind: Kind) async throws {
        let store = try await kind.make()
        let id = SessionID(trusted: "busy")
        _ = try await store.createSessionIfAbsent(session("busy", at: t0))
        let records = try await withThrowingTaskGroup(of: MessageRecord.self) { group in
            for index in 0..<40 {
                group.addTask {
                    try await store.appendMessage(NewMessage(role: .user, content: [.text("m\(index)")], createdAt: t0), to: id)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(records.map(\.sequence)) == Set(1...40))
        let stored = try await store.messages(in: id)
        #expect(stored.map(\.sequence) == Array(1...40))
        #expect(Set(stored.map(\.content.plainText)) == Set((0..<40).map { "m\($0)" }))
    }

    @Test(arguments: Kind.allCases)
    func sessionsAreListedNewestFirstAcrossPages(kind: Kind) async throws {
        let store = try await kind.make()
        for index in 0..<5 {
            _ = try await store.createSessionIfAbsent(session("s\(index)", at: t0.addingTimeInterval(Double(index))))
        }
        // Two sessions updated in the same millisecond are still ordered, by id.
        _ = try await store.createSessionIfAbsent(session("s5", at: t0.addingTimeInterval(4)))
        let page1 = try await store.listSessions(owner: nil, limit: 4, after: nil)
        #expect(page1.map(\.id.rawValue) == ["s5", "s4", "s3", "s2"])
        let page2 = try await store.listSessions(owner: nil, limit: 4, after: SessionCursor(after: page1.last!))
        #expect(page2.map(\.id.rawValue) == ["s1", "s0"])
    }

    /// Sessions updated in one millisecond that a `Date` cannot hold exactly (it comes back a
    /// hair below): paging through them one at a time skips none.
    @Test(arguments: Kind.allCases)
    func sessionsOfOneMillisecondArePagedThroughWhole(kind: Kind) async throws {
        let store = try await kind.make()
        let inexact = try #require((370_000_000_000..<370_000_100_000).first { (Date(millis: $0).timeIntervalSince1970 * 1000).rounded(.down) != Double($0) })
        // A clock's time within that millisecond is stored as it; read back, it is `Date(millis:)`.
        for id in ["a", "b", "c"] {
            _ = try await store.createSessionIfAbsent(session(id, at: Date(timeIntervalSince1970: Double(inexact) / 1000 + 0.0004)))
        }
        var seen: [String] = []
        var cursor: SessionCursor?
        for _ in 0..<5 {
            let page = try await store.listSessions(owner: nil, limit: 1, after: cursor)
            guard let last = page.last else { break }
            seen.append(last.id.rawValue)
            cursor = SessionCursor(after: last)
        }
        #expect(seen == ["c", "b", "a"])
    }

    /// Every page but the last is full, however the owners' sessions interleave (DynamoDB
    /// filters after it reads: it must read on until it has a page).
    @Test(arguments: Kind.allCases)
    func listingByOwnerShowsOnlyTheirSessionsInFullPages(kind: Kind) async throws {
        let store = try await kind.make()
        // s00 … s59: every tenth has no owner, the others are alice's (even) and bob's (odd). In
        // DynamoDB's eight index partitions, some sessions without an owner lie behind more
        // than a page of owned ones.
        func owner(_ index: Int) -> String? { index.isMultiple(of: 10) ? nil : index.isMultiple(of: 2) ? "alice" : "bob" }
        let ids = (0..<60).map { String(format: "s%02d", $0) }
        for (index, id) in ids.enumerated() {
            _ = try await store.createSessionIfAbsent(session(id, at: t0.addingTimeInterval(Double(index)), owner: owner(index)))
        }
        func pages(of owner: String?) async throws -> [[String]] {
            var pages: [[String]] = []
            var cursor: SessionCursor?
            repeat {
                let page = try await store.listSessions(owner: owner, limit: 3, after: cursor)
                if !page.isEmpty { pages.append(page.map(\.id.rawValue)) }
                cursor = page.count == 3 ? page.last.map(SessionCursor.init(after:)) : nil
            } while cursor != nil
            return pages
        }
        func expectedPages(of name: String?) -> [[String]] {
            let newestFirst = ids.indices.reversed().filter { owner($0) == name }.map { ids[$0] }
            return stride(from: 0, to: newestFirst.count, by: 3).map { Array(newestFirst[$0..<min($0 + 3, newestFirst.count)]) }
        }
        #expect(try await pages(of: nil) == expectedPages(of: nil))
        #expect(try await pages(of: "alice") == expectedPages(of: "alice"))
        #expect(try await pages(of: "bob") == expectedPages(of: "bob"))
        #expect(try await store.listSessions(owner: "carol", limit: 3, after: nil).isEmpty)
    }

    @Test(arguments: Kind.allCases)
    func openingSomeoneElsesSessionIsNotFoundAndStoresNothing(kind: Kind) async throws {
        let store = try await kind.make()
        let id = SessionID(trusted: "alices")
        let hello = NewMessage(role: .user, content: [.text("hello")], createdAt: t0)
        let (opened, _) = try await store.openSession(session("alices", at: t0, owner: "alice"), appending: [hello])
        for intruder in ["bob", nil] as [String?] {
            var theirs = session("alices", at: t0.addingTimeInterval(60), owner: intruder)
            theirs.title = "Taken over"
            let error = await #expect(throws: KaiwaError.self) {
                let taking = NewMessage(role: .user, content: [.text("mine now")], createdAt: t0.addingTimeInterval(60))
                return try await store.openSession(theirs, appending: [taking])
            }
            #expect(error?.code == .notFound)
            #expect(error?.message == KaiwaError.notFound("There is no session alices.").message)
        }
        #expect(try await store.session(id) == opened)
        #expect(try await store.messages(in: id).map(\.content.plainText) == ["hello"])
        // The owner still can, and a session without an owner is the local user's alone.
        let (_, more) = try await store.openSession(session("alices", at: t0, owner: "alice"), appending: [hello])
        #expect(more.map(\.sequence) == [2])
        _ = try await store.openSession(session("locals", at: t0), appending: [])
        await #expect(throws: KaiwaError.self) { try await store.openSession(session("locals", at: t0, owner: "alice"), appending: []) }
    }

    @Test(arguments: Kind.allCases)
    func deletingSomeoneElsesSessionIsRefusedAndDeletesNothing(kind: Kind) async throws {
        let store = try await kind.make()
        let alices = SessionID(trusted: "alices")
        let locals = SessionID(trusted: "locals")
        let message = NewMessage(role: .user, content: [.text("hi")], createdAt: t0)
        _ = try await store.openSession(session("alices", at: t0, owner: "alice"), appending: [message])
        _ = try await store.openSession(session("locals", at: t0), appending: [message])
        #expect(try await store.deleteSession(alices, owner: "bob") == false)
        #expect(try await store.deleteSession(alices, owner: nil) == false)
        #expect(try await store.deleteSession(locals, owner: "alice") == false)
        #expect(try await store.session(alices)?.owner == "alice")
        #expect(try await store.messages(in: alices).count == 1)
        #expect(try await store.session(locals) != nil)
        #expect(try await store.messages(in: locals).count == 1)
        #expect(try await store.deleteSession(alices, owner: "alice"))
        #expect(try await store.deleteSession(locals, owner: nil))
        #expect(try await store.messages(in: alices).isEmpty)
    }

    @Test(arguments: Kind.allCases)
    func deletingASessionDeletesItsMessages(kind: Kind) async throws {
        let store = try await kind.make()
        let id = SessionID(trusted: "gone")
        _ = try await store.createSessionIfAbsent(session("gone", at: t0))
        _ = try await store.appendMessage(NewMessage(role: .user, content: [.text("hi")], createdAt: t0), to: id)
        #expect(try await store.deleteSession(id, owner: nil))
        #expect(try await store.session(id) == nil)
        #expect(try await store.messages(in: id).isEmpty)
        #expect(try await store.deleteSession(id, owner: nil) == false)
    }

    @Test(arguments: Kind.allCases)
    func sweepRemovesHistoryOlderThanTheCutoffOnly(kind: Kind) async throws {
        let store = try await kind.make()
        let old = SessionID(trusted: "old")
        let active = SessionID(trusted: "active")
        _ = try await store.createSessionIfAbsent(session("old", at: t0))
        _ = try await store.appendMessage(NewMessage(role: .user, content: [.text("old")], createdAt: t0), to: old)
        _ = try await store.createSessionIfAbsent(session("active", at: t0))
        _ = try await store.appendMessage(NewMessage(role: .user, content: [.text("ancient")], createdAt: t0), to: active)
        _ = try await store.appendMessage(
            NewMessage(role: .user, content: [.text("recent")], createdAt: t0.addingTimeInterval(100)), to: active
        )
        let result = try await store.sweep(before: t0.addingTimeInterval(50))
        #expect(result == SweepResult(sessions: 1, messages: 2))
        #expect(try await store.session(old) == nil)
        #expect(try await store.messages(in: active).map(\.content.plainText) == ["recent"])
    }
}
