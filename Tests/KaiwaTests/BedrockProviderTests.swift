import Foundation
import HTTPTypes
import Hummingbird
import KaiwaAWS
import KaiwaCore
import KaiwaModels
import Logging
import Synchronization
import Testing

/// The Bedrock provider against a fake Bedrock Runtime that checks every signature.
struct BedrockProviderTests {
    struct Fixed: AWSCredentialProvider {
        func credentials() async throws -> AWSCredentials? { FakeBedrock.credentials }
    }

    static func provider(_ base: String, streaming: Bool = true, authorization: BedrockProvider.Authorization = .sigV4(Fixed())) -> BedrockProvider {
        BedrockProvider(
            model: "apac.amazon.nova-micro-v1:0", region: "ap-northeast-1", endpoint: base, authorization: authorization,
            streaming: streaming, client: testHTTPClient, settings: OpenAIProviderTests.fast, logger: Logger(label: "test")
        )
    }

    static let request = ModelRequest(
        system: "Be brief.", messages: [.user("hi")], tools: [ToolSpec(name: "search", description: "Search", inputSchema: .object([:]))],
        maxTokens: 200
    )

    /// A router answering ConverseStream for the Nova Micro path with `frames`, after
    /// checking the signature; unsigned or wrongly signed requests get 403.
    static func route(_ router: Router<BasicRequestContext>, port: @escaping @Sendable () -> Int, seen: Shared<[String]>? = nil, answer: @escaping @Sendable (Int) -> Response) {
        let calls = CallCounter()
        router.post("/model/:model/:operation") { request, _ in
            var request = request
            let body = Array(try await request.collectBody(upTo: 1 << 20).readableBytesView)
            seen?.update { $0.append((request.head.path ?? "") + " " + String(decoding: body, as: UTF8.self)) }
            guard FakeBedrock.hasValidSignature(request, body: body, port: port()) else {
                return Response(
                    status: .forbidden, headers: [HTTPField.Name("x-amzn-ErrorType")!: "InvalidSignatureException:http://internal.amazon.com/"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"message":"The request signature we calculated does not match"}"#))
                )
            }
            return answer(calls.next())
        }
    }

    static let textFrames = [
        FakeBedrock.event("messageStart", #"{"role":"assistant"}"#),
        FakeBedrock.event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"こんに"}}"#),
        FakeBedrock.event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"ちは"}}"#),
        FakeBedrock.event("contentBlockStop", #"{"contentBlockIndex":0}"#),
        FakeBedrock.event("messageStop", #"{"stopReason":"end_turn"}"#),
        FakeBedrock.event("metadata", #"{"usage":{"inputTokens":9,"outputTokens":4,"totalTokens":13},"metrics":{"latencyMs":100}}"#),
    ]

    /// Runs a fake Bedrock whose port the router can read (the signature covers the host).
    static func withFakeBedrock(answer: @escaping @Sendable (Int) -> Response, seen: Shared<[String]>? = nil, _ body: @Sendable (String) async throws -> Void) async throws {
        let port = Shared(0)
        try await withFakeUpstream({ router in
            route(router, port: { port.get() }, seen: seen, answer: answer)
        }) { base in
            port.set(Int(base.split(separator: ":").last!)!)
            try await body(base)
        }
    }

    @Test func streamsSignedConverseStreamWithTheModelIDEncodedInThePath() async throws {
        let seen = Shared<[String]>([])
        try await Self.withFakeBedrock(answer: { _ in FakeBedrock.stream(Self.textFrames) }, seen: seen) { base in
            let events = try await collectEvents(Self.provider(base).stream(Self.request))
            #expect(events == [.textDelta("こんに"), .textDelta("ちは"), .stop(.endTurn), .usage(TokenUsage(inputTokens: 9, outputTokens: 4))])
            let request = try #require(seen.get().first)
            #expect(request.hasPrefix("/model/apac.amazon.nova-micro-v1%3A0/converse-stream "))
            let body = try #require(try JSONSerialization.jsonObject(with: Data(request.split(separator: " ", maxSplits: 1)[1].utf8)) as? [String: Any])
            #expect((body["system"] as? [[String: Any]])?.first?["text"] as? String == "Be brief.")
            #expect((body["inferenceConfig"] as? [String: Any])?["maxTokens"] as? Int == 200)
            #expect(((body["messages"] as? [[String: Any]])?.first?["content"] as? [[String: Any]])?.first?["text"] as? String == "hi")
            #expect((body["toolConfig"] as? [String: Any])?["tools"] != nil)
        }
    }

    @Test func toolUseInputArrivesInFragmentsAndIsReassembled() async throws {
        let frames = [
            FakeBedrock.event("contentBlockStart", #"{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tooluse_1","name":"search"}}}"#),
            FakeBedrock.event("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"keyword\":"}}}"#),
            FakeBedrock.event("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"\"Swift\"}"}}}"#),
            FakeBedrock.event("contentBlockStop", #"{"contentBlockIndex":1}"#),
            FakeBedrock.event("messageStop", #"{"stopReason":"tool_use"}"#),
        ]
        try await Self.withFakeBedrock(answer: { _ in FakeBedrock.stream(frames) }) { base in
            let events = try await collectEvents(Self.provider(base).stream(Self.request))
            #expect(events == [
                .toolUseStart(id: "tooluse_1", name: "search"),
                .toolUseInputDelta(id: "tooluse_1", fragment: #"{"keyword":"#),
                .toolUseInputDelta(id: "tooluse_1", fragment: #""Swift"}"#),
                .toolUseEnd(id: "tooluse_1"),
                .stop(.toolUse),
            ])
        }
    }

    @Test func throttlingAnswerIsRetriedThenSucceeds() async throws {
        try await Self.withFakeBedrock(answer: { call in
            call == 1
                ? Response(
                    status: .tooManyRequests, headers: [HTTPField.Name("x-amzn-ErrorType")!: "ThrottlingException:http://internal.amazon.com/"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"message":"Too many requests, please wait before trying again."}"#))
                )
                : FakeBedrock.stream(Self.textFrames)
        }) { base in
            let events = try await collectEvents(Self.provider(base).stream(Self.request))
            #expect(events.first == .textDelta("こんに"))
        }
    }

    @Test func exceptionEventMidStreamEndsWithAnError() async throws {
        let frames = [Self.textFrames[1], FakeBedrock.exception("modelStreamErrorException", "The model broke")]
        try await Self.withFakeBedrock(answer: { _ in FakeBedrock.stream(frames) }) { base in
            var seen: [ModelStreamEvent] = []
            let error = await #expect(throws: ModelError.self) {
                for try await event in Self.provider(base).stream(Self.request) { seen.append(event) }
            }
            #expect(error?.kind == .unavailable)
            #expect(seen == [.textDelta("こんに")])
        }
    }

    @Test func corruptOrTruncatedFramesAreErrorsNotCrashes() async throws {
        var corrupt = Self.textFrames[1]
        corrupt[corrupt.count - 6] ^= 0xFF
        let truncated = Array(Self.textFrames[2].dropLast(3))
        for frames in [[Self.textFrames[0], corrupt], [Self.textFrames[1], truncated]] {
            try await Self.withFakeBedrock(answer: { _ in FakeBedrock.stream(frames) }) { base in
                let error = await #expect(throws: ModelError.self) { try await collectEvents(Self.provider(base).stream(Self.request)) }
                #expect(error?.kind == .unavailable)
            }
        }
    }

    @Test func wrongCredentialsAreAnAuthenticationError() async throws {
        struct Wrong: AWSCredentialProvider {
            func credentials() async throws -> AWSCredentials? { AWSCredentials(accessKeyID: "AKIDFAKEBEDROCK", secretAccessKey: "wrong") }
        }
        try await Self.withFakeBedrock(answer: { _ in FakeBedrock.stream(Self.textFrames) }) { base in
            let error = await #expect(throws: ModelError.self) {
                try await collectEvents(Self.provider(base, authorization: .sigV4(Wrong())).stream(Self.request))
            }
            #expect(error?.kind == .authentication)
        }
    }

    @Test func converseWithoutStreamingAndBearerKeyMode() async throws {
        let seenAuthorization = Shared<String?>(nil)
        try await withFakeUpstream({ router in
            router.post("/model/:model/converse") { request, _ in
                seenAuthorization.set(request.headers[.authorization])
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"output":{"message":{"role":"assistant","content":[{"text":"Hi"},{"toolUse":{"toolUseId":"t1","name":"search","input":{"q":"x"}}}]}},"stopReason":"tool_use","usage":{"inputTokens":3,"outputTokens":5,"totalTokens":8}}"#))
                )
            }
        }) { base in
            let events = try await collectEvents(Self.provider(base, streaming: false, authorization: .bearer("bedrock-api-key")).stream(Self.request))
            #expect(events == [
                .textDelta("Hi"), .toolUseStart(id: "t1", name: "search"), .toolUseInputDelta(id: "t1", fragment: #"{"q":"x"}"#),
                .toolUseEnd(id: "t1"), .usage(TokenUsage(inputTokens: 3, outputTokens: 5)), .stop(.toolUse),
            ])
            #expect(seenAuthorization.get() == "Bearer bedrock-api-key")
        }
    }
}
