import Foundation
import HummingbirdWSClient
import KaiwaCore
import KaiwaStore
import Logging
import NIOWebSocket
import Synchronization
import Testing

/// `/ws` with a real WebSocket client (seed 002's chat).
struct WebSocketTests {
    /// Messages the server sent, parsed as JSON.
    final class Inbox: Sendable {
        private let all = Mutex<[String]>([])
        func append(_ text: String) { all.withLock { $0.append(text) } }
        var messages: [[String: Any]] {
            all.withLock { $0 }.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:] }
        }
        var types: [String] { messages.compactMap { $0["type"] as? String } }
    }

    /// Connects, runs `script` with a function that sends a frame and one that waits for a
    /// message matching a predicate, and returns what the server sent and its close frame.
    func converse(
        port: Int,
        script: @escaping @Sendable (_ send: @escaping @Sendable (String) async throws -> Void, _ waitFor: @escaping @Sendable (String) async throws -> Void) async throws -> Void
    ) async throws -> (inbox: Inbox, close: WebSocketCloseFrame?) {
        let inbox = Inbox()
        let close = try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(port)/ws", configuration: .init(maxFrameSize: 1 << 20), logger: Logger(label: "ws-test")
        ) { inbound, outbound, _ in
            let (arrivals, arrived) = AsyncStream<Void>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { inbox.append(text) }
                        arrived.yield()
                    }
                    arrived.finish()
                }
                // `type`, or `type×n` for the n-th frame of that type.
                let waitFor: @Sendable (String) async throws -> Void = { wanted in
                    let parts = wanted.split(separator: "×")
                    let type = String(parts[0])
                    let count = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
                    let deadline = ContinuousClock.now + .seconds(10)
                    while inbox.types.filter({ $0 == type }).count < count && ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                }
                try await script({ try await outbound.write(.text($0)) }, waitFor)
                _ = arrivals
                group.cancelAll()
            }
        }
        return (inbox, close)
    }

    @Test func conversationOverOneConnectionStreamsEachReply() async throws {
        let store = InMemoryChatStore()
        try await AppHarness(store: store).runLive { port in
            let (inbox, _) = try await converse(port: port) { send, waitFor in
                try await send(#"{"action":"sendMessage","message":"こんにちは","session_id":"ws-chat"}"#)
                try await waitFor("done")
                try await send(#"{"action":"sendMessage","message":"ありがとう","session_id":"ws-chat"}"#)
                try await waitFor("done×2")
            }
            let done = inbox.messages.filter { $0["type"] as? String == "done" }
            #expect(done.compactMap { $0["response"] as? String } == ["こんにちは！何かお手伝いできることはありますか？", "どういたしまして！"])
            #expect(inbox.types.first == "session")
            #expect(inbox.types.contains("delta"))
            #expect(try await store.messages(in: SessionID(trusted: "ws-chat")).count == 4)
        }
    }

    @Test func aStopThatArrivesWhileTheReplyIsBeingStoredIsStillAnswered() async throws {
        // The reply's text is written at once; storing it takes half a second, and the stop comes then.
        try await AppHarness(store: FaultInjectingStore(faults: [.slowReplyWrites])).runLive { port in
            let (inbox, _) = try await converse(port: port) { send, waitFor in
                try await send(#"{"action":"sendMessage","message":"こんにちは","session_id":"late-stop"}"#)
                try await waitFor("delta")
                try await send(#"{"action":"stop"}"#)
                try await waitFor("done")
                try await waitFor("stop")
            }
            let done = inbox.messages.first { $0["type"] as? String == "done" }
            #expect(done?["stopped"] as? Bool == false)
            let answer = inbox.messages.first { $0["type"] as? String == "stop" }
            #expect(answer?["stopped"] as? Bool == false, "the stop got no frame back: \(inbox.types)")
        }
    }

    @Test func garbageAndUnknownActionsGetErrorFramesAndTheConnectionStaysOpen() async throws {
        try await AppHarness().runLive { port in
            let (inbox, _) = try await converse(port: port) { send, waitFor in
                try await send("this is not json")
                try await send(#"{"action":"dance"}"#)
                try await send(#"{"action":"sendMessage","message":42}"#)
                try await send(#"{"action":"sendMessage"}"#)
                try await send(#"{"action":"sendMessage","message":"天気","session_id":"bad id"}"#)
                try await send(#"{"action":"sendMessage","message":"天気"}"#)
                try await waitFor("done")
            }
            let errors = inbox.messages.filter { $0["type"] as? String == "error" }
            #expect(errors.map { $0["error"] as? String } == ["bad_request", "bad_request", "bad_request", "bad_request", "invalid_session_id"])
            #expect((errors[1]["message"] as? String)?.contains("dance") == true)
            #expect(inbox.messages.last?["response"] as? String == "今日の天気は晴れです！")
        }
    }

    @Test func aStopWithNothingRunningIsAnsweredThatNothingWasStopped() async throws {
        try await AppHarness().runLive { port in
            let (inbox, _) = try await converse(port: port) { send, waitFor in
                try await send(#"{"action":"stop"}"#)
                try await waitFor("stop")
                try await send(#"{"action":"sendMessage","message":"天気"}"#)
                try await waitFor("done")
                try await send(#"{"action":"stop"}"#)
                try await send("not json")  // answered after the stop: frames are taken in order
                try await waitFor("error")
            }
            let stops = inbox.messages.filter { $0["type"] as? String == "stop" }
            #expect(stops.count == 2)
            #expect(stops.allSatisfy { $0["stopped"] as? Bool == false })
        }
    }

    @Test func oversizedFrameGetsAnErrorFrameAndClose1009() async throws {
        try await AppHarness().runLive { port in
            let (inbox, close) = try await converse(port: port) { send, _ in
                try await send(#"{"action":"sendMessage","message":"\#(String(repeating: "x", count: 40_000))"}"#)
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(inbox.messages.first?["error"] as? String == "payload_too_large")
            #expect(close?.closeCode == .messageTooLarge)
        }
    }

    @Test func secondMessageWhileBusyGetsAnErrorFrameAndStopEndsTheReply() async throws {
        let model = SlowModel(chunks: 300, interval: .milliseconds(10))
        let store = InMemoryChatStore()
        var harness = AppHarness(store: store)
        harness.model = model
        try await harness.runLive { port in
            let (inbox, _) = try await converse(port: port) { send, waitFor in
                try await send(#"{"action":"sendMessage","message":"long one","session_id":"ws-busy"}"#)
                try await waitFor("delta")
                try await send(#"{"action":"sendMessage","message":"another","session_id":"ws-busy"}"#)
                try await waitFor("error")
                try await send(#"{"action":"stop"}"#)
                try await waitFor("done")
            }
            #expect(inbox.messages.first { $0["type"] as? String == "error" }?["error"] as? String == "conflict")
            #expect(inbox.messages.last?["stopped"] as? Bool == true)
            #expect(model.record.cancelled == 1)
            let stored = try await store.messages(in: SessionID(trusted: "ws-busy"))
            #expect(stored.map(\.status) == [.complete, .partial])
        }
    }

    @Test func connectionIsRecordedWhileOpenWithADayToLiveAndRemovedOnClose() async throws {
        let store = InMemoryChatStore()
        try await AppHarness(store: store).runLive { port in
            _ = try await converse(port: port) { send, waitFor in
                try await send(#"{"action":"sendMessage","message":"hi","session_id":"ws-record"}"#)
                try await waitFor("done")
                let open = await store.allConnections()
                #expect(open.count == 1)
                #expect(open.first?.sessionID == SessionID(trusted: "ws-record"))
                #expect(open.first.map { $0.expiresAt.timeIntervalSince($0.createdAt) } == Double(24 * 3600))
            }
            try await waitUntil { await store.allConnections().isEmpty }
        }
    }
}
