import Foundation
import Hummingbird
import HummingbirdTesting
import KaiwaCore
import KaiwaModels
import KaiwaServer
import KaiwaStore
import Logging
import Testing

/// A real provider (against a fake OpenAI-compatible server) behind Kaiwa's routes.
struct RealModelRouteTests {
    static func harness(_ base: String, store: any ChatStore) -> AppHarness {
        var harness = AppHarness(store: store)
        harness.model = OpenAIProviderTests.provider(base)
        return harness
    }

    @Test func toolCallsAndTextStreamThroughSSEAndAreStoredWithUsageAndModel() async throws {
        let store = InMemoryChatStore()
        let calls = CallCounter()
        try await withFakeUpstream({ router in
            router.post("/chat/completions") { _, _ in
                if calls.next() == 1 {
                    return OpenAIProviderTests.sse([
                        OpenAIProviderTests.delta("Looking"),
                        #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"search","arguments":"{\"q\":"}}]}}]}"#,
                        #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Swift\"}"}}]}}]}"#,
                        #"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
                        #"{"choices":[],"usage":{"prompt_tokens":20,"completion_tokens":9}}"#,
                    ])
                }
                return OpenAIProviderTests.sse([
                    OpenAIProviderTests.delta(" - no such tool."),
                    #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
                    #"{"choices":[],"usage":{"prompt_tokens":30,"completion_tokens":5}}"#,
                ])
            }
        }) { base in
            try await Self.harness(base, store: store).runLive { port in
                let events = StreamingTests.Events()
                _ = try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"find","session_id":"real-model"}"#) {
                    events.append($0)
                    return true
                }
                #expect(events.list.map(\.event) == ["session", "delta", "tool_call", "usage", "tool_result", "delta", "usage", "done"])
                let call = try #require(events.list.first { $0.event == "tool_call" }?.data)
                #expect(call["name"] as? String == "search")
                #expect((call["input"] as? [String: Any])?["q"] as? String == "Swift")
                #expect(events.list.first { $0.event == "tool_result" }?.data["ok"] as? Bool == false)
                #expect(events.list.last?.data["response"] as? String == "Looking - no such tool.")
                let stored = try await store.messages(in: SessionID(trusted: "real-model"))
                #expect(stored.map(\.role) == [.user, .assistant, .user, .assistant])
                #expect(stored[1].content == [.text("Looking"), .toolUse(id: "call_1", name: "search", input: .object(["q": .string("Swift")]))])
                #expect(stored[2].content.first?.isToolResultBlock == true)
                #expect(stored[3].model == "openai:test-model")
                #expect(stored[3].usage == TokenUsage(inputTokens: 50, outputTokens: 14))
            }
        }
    }

    @Test func cutStreamEndsWithAnErrorEventAndThePartialTextIsKept() async throws {
        let store = InMemoryChatStore()
        try await withFakeUpstream({ router in
            router.post("/chat/completions") { _, _ in OpenAIProviderTests.sse([OpenAIProviderTests.delta("half an ans")], done: false) }
        }) { base in
            try await Self.harness(base, store: store).runLive { port in
                let events = StreamingTests.Events()
                _ = try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"go","session_id":"cut"}"#) {
                    events.append($0)
                    return true
                }
                #expect(events.list.last?.event == "error")
                #expect(events.list.last?.data["error"] as? String == "service_unavailable")
                let reply = try #require(try await store.messages(in: SessionID(trusted: "cut")).last)
                #expect(reply.status == .partial)
                #expect(reply.content.plainText == "half an ans")
            }
        }
    }

    @Test func slowModelIs504AndHealthNamesTheModel() async throws {
        try await withFakeUpstream({ router in
            router.post("/chat/completions") { _, _ in
                try await Task.sleep(for: .seconds(8))
                return OpenAIProviderTests.sse([])
            }
        }) { base in
            try await Self.harness(base, store: InMemoryChatStore()).run { client in
                let response = try await client.post("/chat", json: #"{"message":"hi"}"#)
                #expect(response.status == .gatewayTimeout)
                #expect(response.json["error"] as? String == "model_timeout")
                #expect(try await client.get("/health").json["model"] as? String == "openai:test-model")
            }
        }
    }
}

extension RealModelRouteTests {
    @Test func bedrockBehindChatAnswersAndStoresItsModelAndUsage() async throws {
        let store = InMemoryChatStore()
        try await BedrockProviderTests.withFakeBedrock(answer: { _ in FakeBedrock.stream(BedrockProviderTests.textFrames) }) { base in
            var harness = AppHarness(store: store)
            harness.model = BedrockProviderTests.provider(base)
            try await harness.run { client in
                let response = try await client.post("/chat", json: #"{"message":"hi","session_id":"nova"}"#)
                #expect(response.status == .ok)
                #expect(response.json["response"] as? String == "こんにちは")
                #expect(response.json["model"] as? String == "bedrock:apac.amazon.nova-micro-v1:0")
                #expect((response.json["usage"] as? [String: Any])?["output_tokens"] as? Int == 4)
            }
            let reply = try #require(try await store.messages(in: SessionID(trusted: "nova")).dropFirst().first)
            #expect(reply.model == "bedrock:apac.amazon.nova-micro-v1:0")
            #expect(reply.usage == TokenUsage(inputTokens: 9, outputTokens: 4))
        }
    }
}

extension ContentBlock {
    var isToolResultBlock: Bool {
        if case .toolResult = self { return true }
        return false
    }
}
