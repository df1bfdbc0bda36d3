import Foundation
import HTTPTypes
import Hummingbird
import KaiwaCore
import KaiwaModels
import Logging
import Synchronization
import Testing

/// The OpenAI-compatible provider against fake servers on loopback.
struct OpenAIProviderTests {
    /// Short retries, and timeouts long enough for a fake upstream on a machine busy with the
    /// rest of the suite (2 s was not, on 2 cores).
    static let fast = UpstreamSettings(
        connectTimeout: .seconds(8), firstTokenTimeout: .seconds(8), idleTimeout: .seconds(8),
        maxAttempts: 3, retryBaseDelay: .milliseconds(10), retryBudget: .seconds(5)
    )

    static func provider(_ baseURL: String, key: String? = "sk-test-secret", settings: UpstreamSettings = fast) -> OpenAIProvider {
        OpenAIProvider(model: "test-model", baseURL: baseURL, apiKey: key, client: testHTTPClient, settings: settings, logger: Logger(label: "test"))
    }

    /// An SSE body from chunk JSON strings, ending with `[DONE]`.
    static func sse(_ chunks: [String], done: Bool = true) -> Response {
        let text = chunks.map { "data: \($0)\n\n" }.joined() + (done ? "data: [DONE]\n\n" : "")
        return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func delta(_ text: String) -> String { #"{"choices":[{"index":0,"delta":{"content":"\#(text)"},"finish_reason":null}]}"# }

    static let request = ModelRequest(
        system: "Be brief.", messages: [.user("hi")],
        tools: [ToolSpec(name: "search", description: "Search events", inputSchema: .object(["type": .string("object")]))]
    )

    @Test func streamsTextUsageAndStopAndSendsTheRequestOpenAIExpects() async throws {
        let received = Mutex<(body: String, auth: String?)>(("", nil))
        try await withFakeUpstream({ router in
            router.post("/v1/chat/completions") { request, _ in
                var request = request
                let body = try await request.collectBody(upTo: 1 << 20)
                received.withLock { $0 = (String(buffer: body), request.headers[.authorization]) }
                return Self.sse([
                    Self.delta("Hel"), Self.delta("lo"),
                    #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
                    #"{"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":2,"total_tokens":13}}"#,
                ])
            }
        }) { base in
            let events = try await collectEvents(Self.provider(base + "/v1").stream(Self.request))
            #expect(events == [.textDelta("Hel"), .textDelta("lo"), .usage(TokenUsage(inputTokens: 11, outputTokens: 2)), .stop(.endTurn)])
            let (body, auth) = received.withLock { $0 }
            #expect(auth == "Bearer sk-test-secret")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            #expect(json["stream"] as? Bool == true)
            #expect((json["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
            #expect(json["model"] as? String == "test-model")
            let messages = try #require(json["messages"] as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String } == ["system", "user"])
            #expect(((json["tools"] as? [[String: Any]])?.first?["function"] as? [String: Any])?["name"] as? String == "search")
        }
    }

    @Test func toolCallsMergedByIndexFromManyFragments() async throws {
        try await withFakeUpstream({ router in
            router.post("/chat/completions") { _, _ in
                Self.sse([
                    #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"search","arguments":""}}]}}]}"#,
                    #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"clock","arguments":"{}"}}]}}]}"#,
                    #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"key"}}]}}]}"#,
                    #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"word\":"}}]}}]}"#,
                    #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Swift\"}"}}]}}]}"#,
                    #"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
                ])
            }
        }) { base in
            let events = try await collectEvents(Self.provider(base).stream(Self.request))
            #expect(events == [
                .toolUseStart(id: "call_a", name: "search"),
                .toolUseStart(id: "call_b", name: "clock"),
                .toolUseInputDelta(id: "call_b", fragment: "{}"),
                .toolUseInputDelta(id: "call_a", fragment: #"{"key"#),
                .toolUseInputDelta(id: "call_a", fragment: #"word":"#),
                .toolUseInputDelta(id: "call_a", fragment: #""Swift"}"#),
                .toolUseEnd(id: "call_a"),
                .toolUseEnd(id: "call_b"),
                .stop(.toolUse),
            ])
        }
    }

    @Test func serverThatIgnoresStreamAndAnswersOneJSONBodyStillWorks() async throws {
        try await withFakeUpstream({ router in
            router.post("/chat/completions") { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"choices":[{"index":0,"message":{"role":"assistant","content":"Whole answer"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#))
                )
            }
        }) { base in
            let events = try await collectEvents(Self.provider(base).stream(Self.request))
            #expect(events == [.textDelta("Whole answer"), .usage(TokenUsage(inputTokens: 3, outputTokens: 2)), .stop(.endTurn)])
        }
    }

    @Test func aCallerThatWaitsForTheWholeAnswerAsksTheServerForItInOnePiece() async throws {
        let streamed = Mutex<Bool?>(nil)
        try await withFakeUpstream({ router in
            router.post("/chat/completions") { request, _ in
                var request = request
                let body = try await request.collectBody(upTo: 1 << 20)
                let json = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
                streamed.withLock { $0 = json?["stream"] as? Bool }
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"choices":[{"index":0,"message":{"role":"assistant","content":"Whole"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#))
                )
            }
        }) { base in
            var request = Self.request
            request.prefersStreaming = false
            let events = try await collectEvents(Self.provider(base).stream(request))
            #expect(events == [.textDelta("Whole"), .usage(TokenUsage(inputTokens: 3, outputTokens: 1)), .stop(.endTurn)])
            #expect(streamed.withLock { $0 } == false)
        }
    }

    @Test func throttlingIsRetriedThenSucceeds() async throws {
        let calls = CallCounter()
        try await withFakeUpstream({ router in
            router.post("/chat/completions") { _, _ in
                if calls.next() == 1 { return Response(status: .tooManyRequests, body: .init(byteBuffer: ByteBuffer(string: #"{"error":"slow down"}"#))) }
                return Self.sse([Self.delta("ok"), #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#])
            }
        }) { base in
            let events = try await collectEvents(Self.provider(base).stream(Self.request))
            #expect(events.first == .textDelta("ok"))
            #expect(calls.value == 2)
        }
    }

    @Test func persistentServerErrorGivesUpAfterMaxAttempts() async throws {
        let calls = CallCounter()
        try await withFakeUpstream({ router in
            router.post("/chat/completions") { _, _ in
                _ = calls.next()
                return Response(status: .internalServerError)
            }
        }) { base in
            let error = await #expect(throws: ModelError.self) { try await collectEvents(Self.provider(base).stream(Self.request)) }
            #expect(error?.kind == .unavailable)
            #expect(calls.value == 3)
        }
    }

    @Test func rejectedKeyIsAnAuthenticationErrorThatDoesNotRepeatTheKey() async throws {
        try await withFakeUpstream({ router in
            router.post("/chat/completions") { _, _ in
                Response(status: .unauthorized, body: .init(byteBuffer: ByteBuffer(string: #"{"error":{"message":"Incorrect API key provided: sk-test-secret"}}"#)))
            }
        }) { base in
            let error = await #expect(throws: ModelError.self) { try await collectEvents(Self.provider(base).stream(Self.request)) }
            #expect(error?.kind == .authentication)
            #expect(error?.description.contains("sk-test") == false)
        }
    }

    @Test func streamCutBeforeTheEndIsAnError() async throws {
        try await withFakeUpstream({ router in
            router.post("/chat/completions") { _, _ in Self.sse([Self.delta("partial")], done: false) }
        }) { base in
            var seen: [ModelStreamEvent] = []
            let error = await #expect(throws: ModelError.self) {
                for try await event in Self.provider(base).stream(Self.request) { seen.append(event) }
            }
            #expect(error?.kind == .unavailable)
            #expect(seen == [.textDelta("partial")])
        }
    }

    @Test func slowFirstTokenTimesOut() async throws {
        try await withFakeUpstream({ router in
            router.post("/chat/completions") { _, _ in
                try await Task.sleep(for: .seconds(8))
                return Self.sse([Self.delta("late")])
            }
        }) { base in
            var settings = Self.fast
            settings.firstTokenTimeout = .seconds(2)
            let started = ContinuousClock.now
            let error = await #expect(throws: ModelError.self) { try await collectEvents(Self.provider(base, settings: settings).stream(Self.request)) }
            #expect(error?.kind == .timeout)
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test func contextOverflowIsRecognised() async throws {
        try await withFakeUpstream({ router in
            router.post("/chat/completions") { _, _ in
                Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: #"{"error":{"code":"context_length_exceeded"}}"#)))
            }
        }) { base in
            let error = await #expect(throws: ModelError.self) { try await collectEvents(Self.provider(base).stream(Self.request)) }
            #expect(error?.kind == .contextTooLong)
        }
    }
}
