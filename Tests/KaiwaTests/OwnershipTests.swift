import Foundation
import HTTPTypes
import HummingbirdTesting
import HummingbirdWSClient
import KaiwaAuth
import KaiwaCore
import KaiwaModels
import KaiwaServer
import KaiwaStore
import Logging
import Testing

/// Two users signed in with API keys, on every store: neither sees, continues, stops, resumes
/// or deletes the other's conversations, and every answer about the other's session is the
/// answer about a session that does not exist.
struct OwnershipTests {
    struct Users {
        var alice: HTTPFields
        var bob: HTTPFields
    }

    static func withTwoUsers(
        _ kind: StoreContractTests.Kind, model: any ModelProvider = RulesModel(), live: Bool = false,
        _ body: @Sendable (_ client: any TestClientProtocol, _ users: Users, _ store: any ChatStore) async throws -> Void
    ) async throws {
        let store = try await kind.make()
        let keys = APIKeys(store: store)
        let alice = try await keys.create(user: "alice", name: nil, expiresAt: nil).key
        let bob = try await keys.create(user: "bob", name: nil, expiresAt: nil).key
        var harness = AppHarness(store: store, model: model)
        harness.configuration.auth.mode = .init(jwt: false, apiKey: true)
        let users = Users(alice: [.authorization: "Bearer \(alice)"], bob: [HTTPField.Name("X-API-Key")!: bob])
        try await harness.run(mode: live ? .live : .router) { client in try await body(client, users, store) }
    }

    /// Status, error code and message with the session id taken out, to compare "not yours" with "not there".
    static func shape(_ response: TestResponse, id: String) -> String {
        let message = (response.json["message"] as? String ?? response.text).replacingOccurrences(of: id, with: "<id>")
        return "\(response.status.code) \(response.json["error"] as? String ?? "-") \(message)"
    }

    @Test(arguments: StoreContractTests.Kind.allCases)
    func anotherUsersSessionAnswersExactlyLikeAMissingOne(kind: StoreContractTests.Kind) async throws {
        try await Self.withTwoUsers(kind) { client, users, store in
            let started = try await client.post("/chat", json: #"{"message":"こんにちは","session_id":"alice-s1"}"#, headers: users.alice)
            #expect(started.status == .ok)
            let mine = try await client.get("/api/sessions", headers: users.alice)
            #expect((mine.json["sessions"] as? [[String: Any]])?.map { $0["id"] as? String } == ["alice-s1"])
            let theirs = try await client.get("/api/sessions", headers: users.bob)
            #expect((theirs.json["sessions"] as? [[String: Any]])?.isEmpty == true)

            // Reading, deleting, stopping and resuming: the very answer a missing session gets
            // (404, except a stop, which finds nothing running: `{"stopped": false}`).
            let reads: [(String, (String) async throws -> TestResponse)] = [
                ("read", { try await client.get("/api/sessions/\($0)", headers: users.bob) }),
                ("delete", { try await client.execute(uri: "/api/sessions/\($0)", method: .delete, headers: users.bob) }),
                ("stop", { try await client.execute(uri: "/api/sessions/\($0)/stop", method: .post, headers: users.bob) }),
                ("resume", { try await client.get("/api/sessions/\($0)/stream", headers: users.bob) }),
            ]
            for (name, send) in reads {
                let other = try await send("alice-s1")
                let missing = try await send("nobody-s1")
                #expect(other.status == (name == "stop" ? .ok : .notFound), "\(name)")
                #expect(Self.shape(other, id: "alice-s1") == Self.shape(missing, id: "nobody-s1"), "\(name)")
            }
            // Continuing: 404 with the same body (a missing id would start a new session of Bob's).
            let expected = Self.shape(try await client.get("/api/sessions/nobody-s2", headers: users.bob), id: "nobody-s2")
            let continuations: [(String, () async throws -> TestResponse)] = [
                ("chat", { try await client.post("/chat", json: #"{"message":"hi","session_id":"alice-s1"}"#, headers: users.bob) }),
                ("chat stream", { try await client.post("/chat/stream", json: #"{"message":"hi","session_id":"alice-s1"}"#, headers: users.bob) }),
                ("invocations", { try await client.post("/invocations", json: #"{"prompt":"hi","session_id":"alice-s1"}"#, headers: users.bob) }),
            ]
            for (name, send) in continuations {
                #expect(Self.shape(try await send(), id: "alice-s1") == expected, "\(name)")
            }
            // Nothing of Alice's changed: her session, its two messages, and no message from Bob anywhere.
            let messages = try await store.messages(in: SessionID(trusted: "alice-s1"))
            #expect(messages.count == 2)
            #expect(try await client.get("/api/sessions/alice-s1", headers: users.alice).status == .ok)
            #expect(try await client.execute(uri: "/api/sessions/alice-s1", method: .delete, headers: users.alice).status == .noContent)
        }
    }

    @Test func aRunningReplyOfAnotherUserCannotBeStoppedResumedOrJoined() async throws {
        try await Self.withTwoUsers(.memory, model: SlowModel(chunks: 500, interval: .milliseconds(20)), live: true) { client, users, _ in
            let port = client.port!
            let first = Task {
                try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"hi","session_id":"alice-live"}"#, headers: users.alice.pairs) { _ in true }
            }
            defer { first.cancel() }
            try await waitUntil { try await client.get("/ping").json["status"] as? String == "HealthyBusy" }
            let busy = try await client.post("/chat", json: #"{"message":"hi","session_id":"alice-live"}"#, headers: users.bob)
            #expect(busy.status == .notFound)
            let stop = try await client.execute(uri: "/api/sessions/alice-live/stop", method: .post, headers: users.bob)
            #expect(stop.json["stopped"] as? Bool == false)
            let resume = try await client.get("/api/sessions/alice-live/stream", headers: users.bob)
            #expect(resume.status == .notFound)
            let own = try await client.execute(uri: "/api/sessions/alice-live/stop", method: .post, headers: users.alice)
            #expect(own.json["stopped"] as? Bool == true)
        }
    }

    @Test func aWebSocketOfOneUserCannotContinueAnothersSession() async throws {
        try await Self.withTwoUsers(.sqlite, live: true) { client, users, _ in
            #expect(try await client.post("/chat", json: #"{"message":"hi","session_id":"alice-ws"}"#, headers: users.alice).status == .ok)
            let ticket = try await client.execute(uri: "/api/auth/ticket", method: .post, headers: users.bob).json["ticket"] as? String
            let frames = try await WebSocketProbe.exchange(
                url: "ws://127.0.0.1:\(client.port!)/ws?ticket=\(ticket ?? "")",
                send: [#"{"action":"sendMessage","message":"hi","session_id":"alice-ws"}"#], until: "error"
            )
            #expect(frames.last?["error"] as? String == "not_found")
        }
    }
}

extension HTTPFields {
    /// The fields as name–value pairs (for clients that take those).
    var pairs: [(String, String)] { map { ($0.name.rawName, $0.value) } }
}

/// A WebSocket client for tests: connects (with headers), sends frames, and collects the
/// server's frames until one of `until`'s type arrives.
enum WebSocketProbe {
    struct Refused: Error {}

    static func exchange(url: String, headers: HTTPFields = [:], send frames: [String], until type: String) async throws -> [[String: Any]] {
        let inbox = WebSocketTests.Inbox()
        _ = try await WebSocketClient.connect(
            url: url, configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: headers), logger: Logger(label: "ws-probe")
        ) { inbound, outbound, _ in
            for frame in frames { try await outbound.write(.text(frame)) }
            for try await message in inbound.messages(maxSize: 1 << 20) {
                if case .text(let text) = message { inbox.append(text) }
                if inbox.types.contains(type) { break }
            }
        }
        return inbox.messages
    }
}
