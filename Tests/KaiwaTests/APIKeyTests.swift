import Foundation
import HTTPTypes
import HummingbirdTesting
import KaiwaAuth
import KaiwaCore
import KaiwaServer
import KaiwaStore
import Testing

/// API keys: `kaiwa keys` as people run it, the two ways a key is sent, and the keys that must
/// not work any more.
struct APIKeyTests {
    static func harness(_ store: any ChatStore, clock: TestClock = TestClock()) -> AppHarness {
        var harness = AppHarness(store: store)
        harness.clock = clock
        harness.configuration.auth.mode = .init(jwt: false, apiKey: true)
        return harness
    }

    @Test func keysCommandCreatesListsAndRevokesKeysTheServerAccepts() async throws {
        let path = try makeTemporaryDirectory().appendingPathComponent("kaiwa.sqlite").path
        let environment = ["KAIWA_SQLITE_PATH": path, "KAIWA_STORE": "sqlite"]
        let created = try await StoreCommandTests.run(["keys", "create", "--user", "alice", "--name", "laptop", "--expires", "30d"], environment: environment)
        #expect(created.status == 0)
        let key = created.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("kw_") && key.count == 46)
        #expect(created.errors.contains("not shown again"))

        let listed = try await StoreCommandTests.run(["keys", "list", "--user", "alice"], environment: environment)
        #expect(listed.status == 0)
        #expect(listed.output.contains("alice\tlaptop"))
        #expect(listed.output.contains("active"))
        #expect(!listed.output.contains(key))
        let id = try #require(listed.output.split(separator: "\n").dropFirst().first?.split(separator: "\t").first.map(String.init))

        let store = try SQLiteChatStore(path: path)
        try await Self.harness(store, clock: TestClock(Date())).run { client in
            let me = try await client.get("/api/me", headers: [.authorization: "Bearer \(key)"])
            #expect(me.status == .ok)
            #expect(me.json["id"] as? String == "alice")
            #expect(me.json["method"] as? String == "api_key")
        }
        let stored = try #require(try await store.apiKey(id: id))
        #expect(stored.hash != key && !stored.hash.contains(key))
        #expect(stored.lastUsedAt != nil)

        let revoked = try await StoreCommandTests.run(["keys", "revoke", id], environment: environment)
        #expect(revoked.status == 0)
        try await Self.harness(store, clock: TestClock(Date())).run { client in
            let refused = try await client.get("/api/me", headers: [HTTPField.Name("X-API-Key")!: key])
            #expect(refused.status == .unauthorized)
            #expect(refused.json["message"] as? String == "The API key has been revoked.")
        }
        #expect(try await StoreCommandTests.run(["keys", "revoke", "0000000000000000"], environment: environment).status != 0)
        #expect(try await StoreCommandTests.run(["keys", "create", "--user", "bob", "--expires", "soon"], environment: environment).status != 0)
    }

    @Test func expiredKeysAndUnknownKeysAreRefused() async throws {
        let store = InMemoryChatStore()
        let clock = TestClock()
        let keys = APIKeys(store: store, clock: clock)
        let expiring = try await keys.create(user: "alice", name: nil, expiresAt: clock.now().addingTimeInterval(60)).key
        try await Self.harness(store, clock: clock).run { client in
            #expect(try await client.get("/api/me", headers: [.authorization: "Bearer \(expiring)"]).status == .ok)
            clock.advance(seconds: 61)
            let expired = try await client.get("/api/me", headers: [.authorization: "Bearer \(expiring)"])
            #expect(expired.status == .unauthorized)
            #expect(expired.json["message"] as? String == "The API key has expired.")
            let forged = "kw_" + String(repeating: "A", count: 43)
            #expect(try await client.get("/api/me", headers: [.authorization: "Bearer \(forged)"]).status == .unauthorized)
            // A JWT is not accepted where only API keys are.
            #expect(try await client.get("/api/me", headers: [.authorization: "Bearer a.b.c"]).status == .unauthorized)
        }
    }

    @Test func lastUseIsWrittenAtMostOnceAMinute() async throws {
        let store = InMemoryChatStore()
        let clock = TestClock()
        let keys = APIKeys(store: store, clock: clock)
        let (key, record) = try await keys.create(user: "alice", name: nil, expiresAt: nil)
        _ = try await keys.verify(key)
        let first = try await store.apiKey(id: record.id)?.lastUsedAt
        clock.advance(seconds: 30)
        _ = try await keys.verify(key)
        #expect(try await store.apiKey(id: record.id)?.lastUsedAt == first)
        clock.advance(seconds: 31)
        _ = try await keys.verify(key)
        #expect(try await store.apiKey(id: record.id)?.lastUsedAt == clock.now())
    }

    @Test func aWebSocketTicketWorksOnceForItsSubjectAndOnlyOnTheWebSocket() async throws {
        let store = InMemoryChatStore()
        let key = try await APIKeys(store: store).create(user: "alice", name: nil, expiresAt: nil).key
        try await Self.harness(store).run(mode: .live) { client in
            let issued = try await client.execute(uri: "/api/auth/ticket", method: .post, headers: [.authorization: "Bearer \(key)"])
            #expect(issued.json["expires_in"] as? Int == 30)
            let ticket = try #require(issued.json["ticket"] as? String)
            // A URL carries a ticket to the WebSocket alone.
            #expect(try await client.get("/api/me?ticket=\(ticket)").status == .unauthorized)
            let url = "ws://127.0.0.1:\(client.port!)/ws?ticket=\(ticket)"
            let frames = try await WebSocketProbe.exchange(url: url, send: [#"{"action":"sendMessage","message":"こんにちは"}"#], until: "done")
            #expect(frames.last?["type"] as? String == "done")
            let sessionID = try #require(frames.first?["session_id"] as? String)
            #expect(try await store.session(SessionID(trusted: sessionID))?.owner == "alice")
            await #expect(throws: (any Error).self) {
                _ = try await WebSocketProbe.exchange(url: url, send: [], until: "done")
            }
        }
    }
}
