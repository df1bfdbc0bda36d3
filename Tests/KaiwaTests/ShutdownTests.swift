import AsyncHTTPClient
import Foundation
import KaiwaAgent
import KaiwaCore
import KaiwaStore
import KaiwaServer
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// SIGTERM: stop taking work, let replies finish for the drain period, then stop and store them.
struct ShutdownTests {
    func runner(model: SlowModel, store: any ChatStore, drain: Duration) -> ReplyRunner {
        let chat = ChatService(store: store, model: model)
        return ReplyRunner(chat: chat, settings: ReplySettings(drainPeriod: drain))
    }

    @Test func replyStillRunningAfterTheDrainPeriodIsStoppedAndStoredPartial() async throws {
        let model = SlowModel(chunks: 1000, interval: .milliseconds(10))
        let store = InMemoryChatStore()
        let runner = runner(model: model, store: store, drain: .milliseconds(200))
        let group = ServiceGroup(services: [runner], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let reply = try await runner.start(ChatRequest(message: "long", sessionID: SessionID(trusted: "draining")))
            try await Task.sleep(for: .milliseconds(50))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            #expect(reply.eventsSoFar.last?.event.type == "done")
            if case .done(_, _, let stopped, _, _) = reply.eventsSoFar.last?.event { #expect(stopped) }
        }
        let stored = try await store.messages(in: SessionID(trusted: "draining"))
        #expect(stored.last?.status == .partial)
        #expect(model.record.cancelled == 1)
    }

    @Test func replyThatFinishesWithinTheDrainPeriodCompletes() async throws {
        let model = SlowModel(chunks: 10, interval: .milliseconds(10))
        let store = InMemoryChatStore()
        // Far longer than the reply needs: draining ends as soon as the reply does, and a suite
        // that keeps both cores busy can hold a 100 ms reply up for seconds.
        let runner = runner(model: model, store: store, drain: .seconds(60))
        let group = ServiceGroup(services: [runner], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            _ = try await runner.start(ChatRequest(message: "short", sessionID: SessionID(trusted: "finishing")))
            await group.triggerGracefulShutdown()
            try await waitUntil { runner.isDraining }
            await #expect(throws: KaiwaError.self) {
                try await runner.start(ChatRequest(message: "too late"))
            }
            try await tasks.waitForAll()
        }
        let stored = try await store.messages(in: SessionID(trusted: "finishing"))
        #expect(stored.last?.status == .complete)
        #expect(stored.last?.content.plainText == model.fullText)
    }
}

/// The whole server under SIGTERM: a reply being streamed is drained, stopped and stored.
struct ServerShutdownTests {
    @Test func gracefulShutdownEndsOpenStreamsWithAStoppedDoneAndStoresThePartialReply() async throws {
        let model = SlowModel(chunks: 10_000, interval: .milliseconds(10))
        let store = InMemoryChatStore()
        var configuration = KaiwaConfiguration()
        configuration.port = try freeLoopbackPort()
        configuration.shutdownDrainSeconds = 0
        let app = try await buildApplication(configuration, dependencies: AppDependencies(store: store, model: model))
        let group = ServiceGroup(services: [app], logger: Logger(label: "test"))
        let port = configuration.port
        let events = StreamingTests.Events()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                try await waitUntil {
                    (try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/ping"), timeout: .seconds(1)))?.status == .ok
                }
                _ = try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"hi","session_id":"sigterm"}"#) { event in
                    events.append(event)
                    if events.count == 3 { await group.triggerGracefulShutdown() }
                    return true
                }
            }
            try await tasks.waitForAll()
        }
        #expect(events.list.last?.event == "done")
        #expect(events.list.last?.data["stopped"] as? Bool == true)
        let stored = try await store.messages(in: SessionID(trusted: "sigterm"))
        #expect(stored.last?.status == .partial)
    }
}
