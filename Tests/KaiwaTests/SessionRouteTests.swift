import Foundation
import Hummingbird
import HummingbirdTesting
import KaiwaCore
import KaiwaStore
import Testing

struct SessionRouteTests {
    @Test func sessionListShowsConversationsNewestFirstWithPages() async throws {
        let harness = AppHarness()
        try await harness.run { client in
            for index in 0..<3 {
                _ = try await client.post("/chat", json: #"{"message":"topic \#(index)","session_id":"s\#(index)"}"#)
                harness.clock.advance(seconds: 1)
            }
            let page1 = try await client.get("/api/sessions?limit=2")
            #expect(page1.status == .ok)
            let sessions = try #require(page1.json["sessions"] as? [[String: Any]])
            #expect(sessions.map { $0["id"] as? String } == ["s2", "s1"])
            #expect(sessions.first?["title"] as? String == "topic 2")
            #expect(sessions.first?["agent"] as? String == "assistant")
            #expect(sessions.first?["updated_at"] is String)
            let cursor = try #require(page1.json["next_cursor"] as? String)
            let page2 = try await client.get("/api/sessions?limit=2&cursor=\(cursor)")
            #expect((page2.json["sessions"] as? [[String: Any]])?.map { $0["id"] as? String } == ["s0"])
            #expect(page2.json["next_cursor"] == nil)
        }
    }

    @Test(arguments: ["limit=0", "limit=1000", "limit=abc", "cursor=garbage"])
    func badListParametersAre400(query: String) async throws {
        try await AppHarness().run { client in
            let response = try await client.get("/api/sessions?\(query)")
            #expect(response.status == .badRequest)
            #expect(response.json["error"] as? String == "bad_request")
        }
    }

    @Test func oneSessionShowsItsMessagesInOrder() async throws {
        try await AppHarness().run { client in
            _ = try await client.post("/chat", json: #"{"message":"天気は？","session_id":"weather"}"#)
            let response = try await client.get("/api/sessions/weather")
            #expect(response.status == .ok)
            let messages = try #require(response.json["messages"] as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String } == ["user", "assistant"])
            #expect(messages.map { $0["text"] as? String } == ["天気は？", "今日の天気は晴れです！"])
            #expect(messages.map { $0["seq"] as? Int } == [1, 2])
            #expect(messages[1]["model"] as? String == "rules")
            #expect(messages[1]["status"] as? String == "complete")
            #expect((messages[1]["content"] as? [[String: Any]])?.first?["type"] as? String == "text")
        }
    }

    @Test func aLongConversationComesInPagesNewestFirst() async throws {
        let harness = AppHarness()
        try await harness.run { client in
            for index in 1...3 {
                _ = try await client.post("/chat", json: #"{"message":"turn \#(index)","session_id":"long"}"#)
            }
            let newest = try await client.get("/api/sessions/long?limit=4")
            #expect(newest.status == .ok)
            #expect((newest.json["messages"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int } == [3, 4, 5, 6])
            let before = try #require(newest.json["next_before"] as? Int)
            let earlier = try await client.get("/api/sessions/long?limit=4&before=\(before)")
            #expect((earlier.json["messages"] as? [[String: Any]])?.compactMap { $0["text"] as? String }.first == "turn 1")
            #expect((earlier.json["messages"] as? [[String: Any]])?.count == 2)
            #expect(earlier.json["next_before"] == nil)
            // Without `limit`, a short conversation is one page.
            let whole = try await client.get("/api/sessions/long")
            #expect((whole.json["messages"] as? [[String: Any]])?.count == 6)
            #expect(whole.json["next_before"] == nil)
        }
    }

    @Test(arguments: ["limit=0", "limit=1001", "limit=x", "before=0", "before=-3", "before=abc"])
    func badMessagePageParametersAre400(query: String) async throws {
        try await AppHarness().run { client in
            _ = try await client.post("/chat", json: #"{"message":"hi","session_id":"paged"}"#)
            let response = try await client.get("/api/sessions/paged?\(query)")
            #expect(response.status == .badRequest)
            #expect(response.json["error"] as? String == "bad_request")
        }
    }

    @Test func aTurnReadsOnlyTheRecentHistoryNotTheWholeConversation() async throws {
        // The store refuses to read a whole history: a turn must read a bounded page.
        let harness = AppHarness(store: FaultInjectingStore(faults: [.wholeHistoryReads]))
        try await harness.run { client in
            for index in 1...3 {
                let response = try await client.post("/chat", json: #"{"message":"turn \#(index)","session_id":"bounded"}"#)
                #expect(response.status == .ok, "turn \(index): \(response.text)")
            }
        }
    }

    @Test func unknownSessionIs404AndMalformedIDIs400() async throws {
        try await AppHarness().run { client in
            let unknown = try await client.get("/api/sessions/nobody-here")
            #expect(unknown.status == .notFound)
            #expect(unknown.json["error"] as? String == "not_found")
            let malformed = try await client.get("/api/sessions/bad%20id")
            #expect(malformed.status == .badRequest)
            #expect(malformed.json["error"] as? String == "invalid_session_id")
        }
    }

    @Test func deletedSessionIsGoneAndDeletingAgainIs404() async throws {
        let store = InMemoryChatStore()
        try await AppHarness(store: store).run { client in
            _ = try await client.post("/chat", json: #"{"message":"hi","session_id":"doomed"}"#)
            let deleted = try await client.execute(uri: "/api/sessions/doomed", method: .delete)
            #expect(deleted.status == .noContent)
            #expect(try await client.get("/api/sessions/doomed").status == .notFound)
            let again = try await client.execute(uri: "/api/sessions/doomed", method: .delete)
            #expect(again.status == .notFound)
        }
        #expect(try await store.messages(in: SessionID(trusted: "doomed")).isEmpty)
    }
}
