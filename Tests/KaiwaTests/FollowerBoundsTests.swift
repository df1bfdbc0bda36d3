import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Foundation
import KaiwaAgent
import KaiwaCore
import KaiwaStore
import Logging
import ServiceLifecycle
import Testing

/// A client that stops reading a reply is let go once it falls `LiveReply.followerLag` frames
/// behind, instead of holding every later event in memory; it can resume from the store.
struct FollowerBoundsTests {
    @Test func aFollowerThatStopsReadingIsLetGoOnceItFallsTooFarBehind() async throws {
        let chunks = LiveReply.followerLag + 500
        let runner = ReplyRunner(chat: ChatService(store: InMemoryChatStore(), model: SlowModel(chunks: chunks, interval: .zero)))
        let group = ServiceGroup(services: [runner], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let reply = try await runner.start(ChatRequest(message: "long", sessionID: SessionID(trusted: "lagging")))
            let reader = reply.follow()
            let idle = reply.follow()  // never read until the reply is over
            var readerEvents = 0
            for await frame in reader.frames {
                if case .event = frame { readerEvents += 1 }
            }
            #expect(reply.isFinished)
            var idleEvents: [SequencedChatEvent] = []
            for await frame in idle.frames {
                if case .event(let event) = frame { idleEvents.append(event) }
            }
            #expect(readerEvents > LiveReply.followerLag + 400, "a follower that keeps up gets every event")
            #expect(idleEvents.count <= LiveReply.followerLag + 1, "the idle follower was let go, not buffered without end")
            #expect(idleEvents.last?.event.isTerminal == false)
            #expect(idleEvents.map(\.sequence) == Array(1...idleEvents.count), "what it got is in order, with nothing missing in between")
            reader.leave()
            idle.leave()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func atMostThirtyTwoClientsFollowOneReplyAndTheNextIsToldToRetry() async throws {
        var harness = AppHarness()
        harness.model = SlowModel(chunks: 500, interval: .milliseconds(20))
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        try await harness.runLive { port in
            func request(_ method: NIOHTTP1.HTTPMethod, _ path: String, json: String? = nil) -> HTTPClientRequest {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                request.method = method
                if let json {
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(string: json))
                }
                return request
            }
            var open: [HTTPClientResponse] = []
            open.append(try await client.execute(request(.POST, "/chat/stream", json: #"{"message":"hi","session_id":"crowded"}"#), timeout: .seconds(10)))
            for _ in 1..<LiveReply.maxFollowers {
                let resumed = try await client.execute(request(.GET, "/api/sessions/crowded/stream"), timeout: .seconds(10))
                #expect(resumed.status == .ok)
                open.append(resumed)
            }
            try await Task.sleep(for: .milliseconds(300))  // every stream has begun following
            let refused = try await client.execute(request(.GET, "/api/sessions/crowded/stream"), timeout: .seconds(10))
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers.first(name: "Retry-After") == "1")
            let body = String(buffer: try await refused.body.collect(upTo: 1 << 16))
            #expect(body.contains("rate_limited"))
            _ = try await client.execute(request(.POST, "/api/sessions/crowded/stop"), timeout: .seconds(10))
            for response in open { _ = try? await response.body.collect(upTo: 1 << 24) }
        }
        try await client.shutdown()
    }
}
