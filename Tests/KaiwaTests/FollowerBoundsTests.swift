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
}
