import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaiwaCore
import KaiwaModels
import KaiwaStore
import Logging
import Testing

/// Every way a model server fails, against the fake OpenAI-compatible and Bedrock servers,
/// through `/chat`: the documented status and error, retries only where documented (throttling,
/// 5xx, connection failures; never after the first token, never for a missing first token),
/// the reply stored as it should be, and no case hanging.
struct UpstreamFaultTests {
    enum Provider: Sendable { case openAI, bedrock }

    /// What the fake model server does on its `call`-th request (from 1).
    typealias Behaviour = @Sendable (_ call: Int) async throws -> Response

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var provider: Provider
        /// `nil`: no server at all (connection refused).
        var behaviour: Behaviour?
        var status: Int
        /// The `error` code of a failed answer; `nil` for a 200.
        var error: String?
        var calls: Int
        /// The stored reply: its status and text.
        var stored: (MessageStatus, String)
        /// The shortest time the case may take (a `Retry-After` honoured).
        var atLeast: Duration = .zero

        var testDescription: String { name }
    }

    static let settings = UpstreamSettings(
        connectTimeout: .milliseconds(500), firstTokenTimeout: .seconds(1), idleTimeout: .seconds(1),
        maxAttempts: 3, retryBaseDelay: .milliseconds(10), retryBudget: .seconds(5)
    )

    /// A client that gives up connecting as the settings say (a refused connection is tried
    /// again until the connect timeout), as the server's own model client does.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .milliseconds(500)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    static func openAI(_ chunks: [String], done: Bool = true) -> Response { OpenAIProviderTests.sse(chunks, done: done) }
    static let hello = OpenAIProviderTests.delta("Hello")
    static let stop = #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#

    static func status(_ code: Int, _ headers: HTTPFields = [:], body: String = #"{"error":{"message":"nope"}}"#) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: .init(code: code), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// A body that writes `first`, then waits far longer than the idle timeout.
    static func stalling(after first: String, contentType: String = "text/event-stream") -> Response {
        Response(
            status: .ok, headers: [.contentType: contentType],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: first))
                try await Task.sleep(for: .seconds(4))
                try await writer.finish(nil)
            }
        )
    }

    static let bedrockText = FakeBedrock.event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Hello"}}"#)
    static let bedrockEnd: [[UInt8]] = [
        FakeBedrock.event("contentBlockStop", #"{"contentBlockIndex":0}"#),
        FakeBedrock.event("messageStop", #"{"stopReason":"end_turn"}"#),
    ]

    static let cases: [Case] = [
        Case(name: "OpenAI: connection refused", provider: .openAI, behaviour: nil, status: 503, error: "service_unavailable", calls: 0, stored: (.error, "")),
        Case(
            name: "OpenAI: no answer before the first-token timeout", provider: .openAI,
            behaviour: { _ in try await Task.sleep(for: .seconds(4)); return openAI([hello]) },
            status: 504, error: "model_timeout", calls: 1, stored: (.error, "")
        ),
        Case(
            name: "OpenAI: a stall mid-stream", provider: .openAI, behaviour: { _ in stalling(after: "data: \(hello)\n\n") },
            status: 504, error: "model_timeout", calls: 1, stored: (.partial, "Hello")
        ),
        Case(
            name: "OpenAI: 429 without Retry-After, every time", provider: .openAI, behaviour: { _ in status(429) },
            status: 503, error: "service_unavailable", calls: 3, stored: (.error, "")
        ),
        Case(
            name: "OpenAI: 429 with Retry-After 1, then an answer", provider: .openAI,
            behaviour: { call in call == 1 ? status(429, [.retryAfter: "1"]) : openAI([hello, stop]) },
            status: 200, error: nil, calls: 2, stored: (.complete, "Hello"), atLeast: .seconds(1)
        ),
        Case(
            name: "OpenAI: 429 with a Retry-After beyond the retry budget", provider: .openAI,
            behaviour: { _ in status(429, [.retryAfter: "60"]) },
            status: 503, error: "service_unavailable", calls: 1, stored: (.error, "")
        ),
        Case(
            name: "OpenAI: 500 every time", provider: .openAI, behaviour: { _ in status(500) },
            status: 503, error: "service_unavailable", calls: 3, stored: (.error, "")
        ),
        Case(
            name: "OpenAI: 503 once, then an answer", provider: .openAI,
            behaviour: { call in call == 1 ? status(503) : openAI([hello, stop]) },
            status: 200, error: nil, calls: 2, stored: (.complete, "Hello")
        ),
        Case(
            name: "OpenAI: 400 is not retried", provider: .openAI, behaviour: { _ in status(400) },
            status: 503, error: "service_unavailable", calls: 1, stored: (.error, "")
        ),
        Case(
            name: "OpenAI: a body that is not JSON", provider: .openAI,
            behaviour: { _ in Response(status: .ok, headers: [.contentType: "text/html"], body: .init(byteBuffer: ByteBuffer(string: "<html>oops</html>"))) },
            status: 503, error: "service_unavailable", calls: 1, stored: (.error, "")
        ),
        Case(
            name: "OpenAI: a broken SSE line after some text", provider: .openAI,
            behaviour: { _ in openAI([hello, #"{"choices":[{"index":0,"delta":{"content":"wor"#]) },
            status: 503, error: "service_unavailable", calls: 1, stored: (.partial, "Hello")
        ),
        Case(
            name: "OpenAI: the stream cut inside a tool call", provider: .openAI,
            behaviour: { _ in
                openAI(
                    [hello, #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"search","arguments":"{\"q\":"}}]}}]}"#],
                    done: false
                )
            },
            status: 503, error: "service_unavailable", calls: 1, stored: (.partial, "Hello")
        ),
        Case(
            name: "Bedrock: 429 ThrottlingException every time", provider: .bedrock,
            behaviour: { _ in status(429, [HTTPField.Name("x-amzn-ErrorType")!: "ThrottlingException"], body: #"{"message":"slow down"}"#) },
            status: 503, error: "service_unavailable", calls: 3, stored: (.error, "")
        ),
        Case(
            name: "Bedrock: a frame with a bad CRC after some text", provider: .bedrock,
            behaviour: { _ in
                var broken = FakeBedrock.event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":" world"}}"#)
                broken[broken.count - 1] ^= 0xFF
                return FakeBedrock.stream([bedrockText, broken] + bedrockEnd)
            },
            status: 503, error: "service_unavailable", calls: 1, stored: (.partial, "Hello")
        ),
        Case(
            name: "Bedrock: an exception event after some text", provider: .bedrock,
            behaviour: { _ in FakeBedrock.stream([bedrockText, FakeBedrock.exception("modelStreamErrorException", "the model broke")]) },
            status: 503, error: "service_unavailable", calls: 1, stored: (.partial, "Hello")
        ),
        Case(
            name: "Bedrock: a stall mid-stream", provider: .bedrock,
            behaviour: { _ in
                Response(
                    status: .ok, headers: [.contentType: "application/vnd.amazon.eventstream"],
                    body: ResponseBody { writer in
                        try await writer.write(ByteBuffer(bytes: bedrockText))
                        try await Task.sleep(for: .seconds(4))
                        try await writer.finish(nil)
                    }
                )
            },
            status: 504, error: "model_timeout", calls: 1, stored: (.partial, "Hello")
        ),
    ]

    static func provider(_ kind: Provider, base: String) -> any ModelProvider {
        switch kind {
        case .openAI:
            OpenAIProvider(model: "test-model", baseURL: base, apiKey: "sk-test", client: client, settings: settings, logger: Logger(label: "test"))
        case .bedrock:
            BedrockProvider(
                model: "apac.amazon.nova-micro-v1:0", region: "ap-northeast-1", endpoint: base, authorization: .sigV4(BedrockProviderTests.Fixed()),
                streaming: true, client: client, settings: settings, logger: Logger(label: "test")
            )
        }
    }

    @Test(arguments: cases)
    func aFailingModelServerGivesTheDocumentedAnswer(_ fault: Case) async throws {
        let calls = CallCounter()
        let store = InMemoryChatStore()
        let check: @Sendable (String) async throws -> Void = { base in
            var configured = AppHarness(store: store, model: Self.provider(fault.provider, base: base))
            // Every call the fake server counts is the reply's own: no title call after it.
            configured.configuration.titlesFromModel = false
            let harness = configured
            let started = ContinuousClock.now
            let finished = try await withTimeout(.seconds(20)) {
                try await harness.run { client in
                    let response = try await client.post("/chat", json: #"{"message":"hi","session_id":"fault"}"#)
                    #expect(Int(response.status.code) == fault.status, "\(response.text)")
                    #expect(response.json["error"] as? String == fault.error, "\(response.text)")
                }
            }
            #expect(finished, "the request did not end within 20 s")
            #expect(ContinuousClock.now - started >= fault.atLeast)
            #expect(calls.value == fault.calls, "the model server was called \(calls.value) times")
            let reply = try await store.messages(in: SessionID(trusted: "fault")).last
            #expect(reply?.role == .assistant)
            #expect(reply?.status == fault.stored.0)
            #expect(reply?.content.plainText == fault.stored.1)
        }
        guard let behaviour = fault.behaviour else {
            try await check("http://127.0.0.1:\(try freeLoopbackPort())")
            return
        }
        try await withFakeUpstream({ router in
            let respond: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in try await behaviour(calls.next()) }
            router.post("/chat/completions", use: respond)
            router.post("/model/:model/converse-stream", use: respond)
        }, check)
    }
}
