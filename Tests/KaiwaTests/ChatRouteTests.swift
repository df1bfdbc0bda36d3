import Foundation
import Hummingbird
import HummingbirdTesting
import KaiwaCore
import KaiwaStore
import Testing

struct ChatRouteTests {
    @Test func chatAnswersWithTheReplyAndANewSessionID() async throws {
        let store = InMemoryChatStore()
        try await AppHarness(store: store).run { client in
            let response = try await client.post("/chat", json: #"{"message":"こんにちは"}"#)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(response.json["response"] as? String == "こんにちは！何かお手伝いできることはありますか？")
            let sessionID = try #require(response.json["session_id"] as? String)
            #expect(try await store.messages(in: SessionID(trusted: sessionID)).map(\.role) == [.user, .assistant])
        }
    }

    @Test func chatContinuesTheSessionTheClientNames() async throws {
        let store = InMemoryChatStore()
        try await AppHarness(store: store).run { client in
            let first = try await client.post("/chat", json: #"{"message":"こんにちは","session_id":"my-session_1"}"#)
            #expect(first.json["session_id"] as? String == "my-session_1")
            let second = try await client.post("/chat", json: #"{"message":"ありがとう","session_id":"my-session_1"}"#)
            #expect(second.json["response"] as? String == "どういたしまして！")
            let texts = try await store.messages(in: SessionID(trusted: "my-session_1")).map(\.content.plainText)
            #expect(texts == ["こんにちは", "こんにちは！何かお手伝いできることはありますか？", "ありがとう", "どういたしまして！"])
        }
    }

    @Test(arguments: [
        (#"{"message": "hi""#, 400, "bad_request", "not valid JSON"),
        (#"[1,2]"#, 400, "bad_request", "must be a JSON object"),
        (#"{}"#, 400, "bad_request", "`message` is required"),
        (#"{"message": ""}"#, 400, "bad_request", "must not be empty"),
        (#"{"message": "   "}"#, 400, "bad_request", "must not be empty"),
        (#"{"message": 42}"#, 400, "bad_request", "`message` must be a string"),
        (#"{"message": null}"#, 400, "bad_request", "`message` must be a string"),
        (#"{"message": "hi", "session_id": 7}"#, 400, "bad_request", "`session_id` must be a string"),
        (#"{"message": "hi", "session_id": "has space"}"#, 400, "invalid_session_id", "letters, digits"),
        (#"{"message": "hi", "session_id": ""}"#, 400, "invalid_session_id", "1 to 128"),
        (#"{"message": "hi", "agent": "nobody"}"#, 400, "unknown_agent", "no agent named"),
    ])
    func badBodiesAreRefusedWithAClearJSONError(body: String, status: Int, code: String, message: String) async throws {
        let store = InMemoryChatStore()
        try await AppHarness(store: store).run { client in
            let response = try await client.post("/chat", json: body)
            #expect(response.status.code == status)
            #expect(response.json["error"] as? String == code)
            #expect((response.json["message"] as? String)?.contains(message) == true, "\(response.text)")
        }
        #expect(try await store.listSessions(owner: nil, limit: 10, after: nil).isEmpty)
    }

    @Test func sessionIDLongerThan128CharactersIsRefused() async throws {
        try await AppHarness().run { client in
            let id = String(repeating: "a", count: 129)
            let response = try await client.post("/chat", json: #"{"message":"hi","session_id":"\#(id)"}"#)
            #expect(response.status == .badRequest)
            #expect(response.json["error"] as? String == "invalid_session_id")
        }
    }

    @Test func bodyOverTheLimitIs413() async throws {
        var harness = AppHarness()
        harness.configuration.maxBodyBytes = 4096
        try await harness.run { client in
            let response = try await client.post("/chat", json: #"{"message":"\#(String(repeating: "x", count: 5000))"}"#)
            #expect(response.status == .contentTooLarge)
            #expect(response.json["error"] as? String == "payload_too_large")
        }
    }

    @Test func messageOverTheLimitIs413() async throws {
        try await AppHarness().run { client in
            let response = try await client.post("/chat", json: #"{"message":"\#(String(repeating: "あ", count: 11_000))"}"#)
            #expect(response.status == .contentTooLarge)
            #expect(response.json["error"] as? String == "payload_too_large")
            #expect((response.json["message"] as? String)?.contains("32768 bytes") == true)
        }
    }

    @Test(arguments: [Optional("text/plain"), Optional("application/x-www-form-urlencoded"), nil])
    func bodyThatIsNotJSONIs415(contentType: String?) async throws {
        try await AppHarness().run { client in
            let response = try await client.post("/chat", json: #"{"message":"hi"}"#, contentType: contentType)
            #expect(response.status == .unsupportedMediaType)
            #expect(response.json["error"] as? String == "unsupported_media_type")
        }
    }

    @Test func jsonWithCharsetIsAccepted() async throws {
        try await AppHarness().run { client in
            let response = try await client.post("/chat", json: #"{"message":"hi"}"#, contentType: "application/json; charset=utf-8")
            #expect(response.status == .ok)
        }
    }

    @Test func expiredSessionIs408AndItsHistoryIsUnchanged() async throws {
        let harness = AppHarness()
        try await harness.run { client in
            _ = try await client.post("/chat", json: #"{"message":"hi","session_id":"old-one"}"#)
            harness.clock.advance(seconds: 31 * 60)
            let response = try await client.post("/chat", json: #"{"message":"again","session_id":"old-one"}"#)
            #expect(response.status == .requestTimeout)
            #expect(response.json["error"] as? String == "session_expired")
            let history = try await client.get("/api/sessions/old-one")
            #expect(history.status == .ok)
            #expect((history.json["messages"] as? [Any])?.count == 2)
        }
    }

    @Test func modelFailureIs503WithoutInternalDetail() async throws {
        var harness = AppHarness()
        harness.model = ScriptedModel([.fail(UpstreamBroke())])
        try await harness.run { client in
            let response = try await client.post("/chat", json: #"{"message":"hi"}"#)
            #expect(response.status == .serviceUnavailable)
            #expect(response.json["error"] as? String == "service_unavailable")
            #expect(!response.text.contains("UpstreamBroke"))
        }
    }

    @Test func storeFailureIsAGeneric500() async throws {
        var harness = AppHarness()
        harness.store = FailingStore()
        try await harness.run { client in
            let response = try await client.post("/chat", json: #"{"message":"hi"}"#)
            #expect(response.status == .internalServerError)
            #expect(response.json["error"] as? String == "internal_error")
            #expect(!response.text.contains("Unreachable"))
        }
    }
}
