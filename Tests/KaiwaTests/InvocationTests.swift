import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaiwaCore
import KaiwaStore
import Testing

/// The AgentCore Runtime contract: `POST /invocations`.
struct InvocationTests {
    static let agentCoreSession = "agentcore-session-0123456789abcdefghij"  // 38 characters

    @Test func promptFormAnswersJSONWithoutEventStreamAccept() async throws {
        try await AppHarness().run { client in
            let response = try await client.post("/invocations", json: #"{"prompt":"こんにちは"}"#)
            #expect(response.status == .ok)
            #expect(response.json["response"] as? String == "こんにちは！何かお手伝いできることはありますか？")
            #expect(response.json["session_id"] is String)
        }
    }

    @Test func messagesFormSeedsAnEmptySessionAndAnswersTheLastMessage() async throws {
        let store = InMemoryChatStore()
        try await AppHarness(store: store).run { client in
            let body = #"{"messages":[{"role":"user","content":"前の質問"},{"role":"assistant","content":"前の答え"},{"role":"user","content":"ありがとう"}]}"#
            let response = try await client.post(
                "/invocations", json: body, headers: [HTTPField.Name("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id")!: Self.agentCoreSession]
            )
            #expect(response.status == .ok)
            #expect(response.json["response"] as? String == "どういたしまして！")
            #expect(response.json["session_id"] as? String == Self.agentCoreSession)
            #expect(response.headers[HTTPField.Name("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id")!] == Self.agentCoreSession)
            let stored = try await store.messages(in: SessionID(trusted: Self.agentCoreSession)).map(\.content.plainText)
            #expect(stored == ["前の質問", "前の答え", "ありがとう", "どういたしまして！"])
        }
    }

    @Test func tooManyOrTooLargeEarlierMessagesAreRefusedAndNothingIsStored() async throws {
        let store = InMemoryChatStore()
        try await AppHarness(store: store).run { client in
            func body(_ prior: [String]) throws -> String {
                let messages = prior.map { ["role": "user", "content": $0] } + [["role": "user", "content": "now"]]
                return String(decoding: try JSONSerialization.data(withJSONObject: ["messages": messages]), as: UTF8.self)
            }
            let headers: HTTPFields = [HTTPField.Name("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id")!: Self.agentCoreSession]
            let many = try await client.post("/invocations", json: try body(Array(repeating: "earlier", count: 51)), headers: headers)
            #expect(many.status == .badRequest)
            #expect((many.json["message"] as? String)?.contains("at most 50 earlier messages") == true)
            // One earlier message over the 32 KiB a message may have; the body itself is within its 1 MiB.
            let large = try await client.post("/invocations", json: try body(["small", String(repeating: "あ", count: 20_000)]), headers: headers)
            #expect(large.status == .contentTooLarge)
            #expect((large.json["message"] as? String)?.contains("Earlier message 2") == true)
            #expect(try await store.session(SessionID(trusted: Self.agentCoreSession), ownedBy: nil) == nil)
        }
    }

    @Test func eventStreamAcceptGetsAgentCoreStyleSSE() async throws {
        try await AppHarness().runLive { port in
            let events = StreamingTests.Events()
            let (status, headers) = try await SSEClient.stream(
                port: port, path: "/invocations", json: #"{"prompt":"天気"}"#, headers: [("Accept", "text/event-stream")]
            ) {
                events.append($0)
                return true
            }
            #expect(status == 200)
            #expect(headers["Content-Type"].first?.hasPrefix("text/event-stream") == true)
            #expect(events.list.allSatisfy { $0.id == nil && $0.event == nil })
            #expect(StreamingTests.text(of: events.list.map { event in
                var copy = event
                copy.event = event.data["type"] as? String
                return copy
            }) == "今日の天気は晴れです！")
            #expect(events.list.last?.data["type"] as? String == "done")
        }
    }

    @Test func failureAfterTheStreamBeganIsADataEventWithErrorType() async throws {
        var harness = AppHarness()
        harness.model = ScriptedModel([.event(.textDelta("part")), .fail(UpstreamBroke())])
        try await harness.runLive { port in
            let events = StreamingTests.Events()
            _ = try await SSEClient.stream(port: port, path: "/invocations", json: #"{"prompt":"hi"}"#, headers: [("Accept", "text/event-stream")]) {
                events.append($0)
                return true
            }
            let last = try #require(events.list.last?.data)
            #expect(last["error_type"] as? String == "service_unavailable")
            #expect(last["error"] is String)
            #expect(last["message"] is String)
        }
    }

    @Test(arguments: [
        (#"{}"#, "Send `prompt`"),
        (#"{"messages":[]}"#, "Send `prompt`"),
        (#"{"messages":[{"role":"assistant","content":"x"}]}"#, "must be the user's new message"),
        (#"{"messages":[{"role":"system","content":"x"},{"role":"user","content":"y"}]}"#, "messages[0].role"),
        (#"{"messages":[{"role":"user","content":5}]}"#, "messages.[0].content"),
    ])
    func malformedInvocationsAre400(body: String, message: String) async throws {
        try await AppHarness().run { client in
            let response = try await client.post("/invocations", json: body)
            #expect(response.status == .badRequest)
            #expect((response.json["message"] as? String)?.contains(message) == true, "\(response.text)")
        }
    }

    @Test func shortAgentCoreSessionHeaderIs400() async throws {
        try await AppHarness().run { client in
            let response = try await client.post(
                "/invocations", json: #"{"prompt":"hi"}"#,
                headers: [HTTPField.Name("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id")!: "too-short"]
            )
            #expect(response.status == .badRequest)
            #expect(response.json["error"] as? String == "invalid_session_id")
        }
    }
}
