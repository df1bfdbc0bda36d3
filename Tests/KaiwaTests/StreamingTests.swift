import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaiwaCore
import KaiwaStore
import OpenAPIRuntime
import Synchronization
import Testing

/// `/chat/stream`, resume, stop and disconnects, over real loopback connections.
struct StreamingTests {
    final class Events: Sendable {
        private let all = Mutex<[ReceivedEvent]>([])
        func append(_ event: ReceivedEvent) { all.withLock { $0.append(event) } }
        var list: [ReceivedEvent] { all.withLock { $0 } }
        var count: Int { list.count }
    }

    /// `POST /api/sessions/{session}/stop`; the answer's body.
    static func stop(session: String, port: Int) async throws -> String {
        var stop = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/sessions/\(session)/stop")
        stop.method = .POST
        let response = try await HTTPClient.shared.execute(stop, timeout: .seconds(5))
        return String(buffer: try await response.body.collect(upTo: 1024))
    }

    static func text(of events: [ReceivedEvent]) -> String {
        events.filter { $0.event == "delta" }.compactMap { $0.data["text"] as? String }.joined()
    }

    @Test func replyStreamsAsNumberedServerSentEvents() async throws {
        let model = SlowModel(chunks: 5, interval: .milliseconds(5))
        var harness = AppHarness()
        harness.model = model
        try await harness.runLive { port in
            let events = Events()
            let (status, headers) = try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"hi"}"#) {
                events.append($0)
                return true
            }
            #expect(status == 200)
            #expect(headers["Content-Type"].first == "text/event-stream; charset=utf-8")
            #expect(headers["Cache-Control"].first == "no-cache")
            #expect(headers["X-Accel-Buffering"].first == "no")
            let received = events.list
            #expect(received.map(\.event) == ["session"] + Array(repeating: "delta", count: 5) + ["done"])
            #expect(received.map(\.id) == (1...received.count).map { String($0) })
            #expect(received.first?.data["session_id"] is String)
            #expect(Self.text(of: received) == model.fullText)
            #expect(received.last?.data["response"] as? String == model.fullText)
            #expect(received.last?.data["stopped"] as? Bool == false)
        }
    }

    @Test func streamRefusesBadInputWithAJSONErrorBeforeStreaming() async throws {
        try await AppHarness().run { client in
            let response = try await client.post("/chat/stream", json: #"{"message": 3}"#)
            #expect(response.status == .badRequest)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
        }
    }

    @Test func droppedClientResumesWithNoEventMissedOrRepeated() async throws {
        let model = SlowModel(chunks: 30, interval: .milliseconds(15))
        var harness = AppHarness()
        harness.model = model
        try await harness.runLive { port in
            let first = Events()
            _ = try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"hi","session_id":"resume-me"}"#) {
                first.append($0)
                return first.count < 6
            }
            let lastSeen = try #require(first.list.last?.id)
            try await Task.sleep(for: .milliseconds(100))
            let rest = Events()
            _ = try await SSEClient.stream(
                port: port, path: "/api/sessions/resume-me/stream", method: .GET, headers: [("Last-Event-ID", lastSeen)]
            ) {
                rest.append($0)
                return true
            }
            let all = first.list + rest.list
            #expect(all.map(\.id) == (1...all.count).map { String($0) })
            #expect(Self.text(of: all) == model.fullText)
            #expect(rest.list.last?.event == "done")
            #expect(model.record.cancelled == 0)
        }
    }

    @Test func replyKeepsBeingGeneratedAfterTheClientLeaves() async throws {
        let model = SlowModel(chunks: 10, interval: .milliseconds(10))
        let store = InMemoryChatStore()
        var harness = AppHarness(store: store)
        harness.model = model
        try await harness.runLive { port in
            _ = try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"hi","session_id":"left"}"#) { _ in false }
            try await waitUntil { try await store.messages(in: SessionID(trusted: "left")).count == 2 }
            let reply = try #require(try await store.messages(in: SessionID(trusted: "left")).dropFirst().first)
            #expect(reply.status == .complete)
            #expect(reply.content.plainText == model.fullText)
            #expect(model.record.cancelled == 0)
            // Resuming a finished reply replays it from the start.
            let replay = Events()
            _ = try await SSEClient.stream(port: port, path: "/api/sessions/left/stream?last_event_id=0", method: .GET) {
                replay.append($0)
                return true
            }
            #expect(Self.text(of: replay.list) == model.fullText)
        }
    }

    @Test func disconnectCancelsTheReplyWhenConfiguredTo() async throws {
        let model = SlowModel(chunks: 200, interval: .milliseconds(10))
        let store = InMemoryChatStore()
        var harness = AppHarness(store: store)
        harness.model = model
        harness.configuration.replyCancelOnDisconnect = true
        try await harness.runLive { port in
            let seen = Events()
            _ = try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"hi","session_id":"pay-per-second"}"#) {
                seen.append($0)
                return seen.count < 3
            }
            try await waitUntil { try await store.messages(in: SessionID(trusted: "pay-per-second")).count == 2 }
            let reply = try #require(try await store.messages(in: SessionID(trusted: "pay-per-second")).dropFirst().first)
            #expect(reply.status == .partial)
            #expect(model.record.cancelled == 1)
            #expect(model.record.finished == 0)
        }
    }

    @Test func stopEndsTheReplyWithAStoppedDoneAndStoresItPartial() async throws {
        let model = SlowModel(chunks: 500, interval: .milliseconds(10))
        let store = InMemoryChatStore()
        var harness = AppHarness(store: store)
        harness.model = model
        try await harness.runLive { port in
            let events = Events()
            _ = try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"hi","session_id":"halt"}"#) { event in
                events.append(event)
                if events.count == 4 {
                    let answer = try await Self.stop(session: "halt", port: port)
                    #expect(answer.contains(#""stopped":true"#))
                }
                return true
            }
            let last = try #require(events.list.last)
            #expect(last.event == "done")
            #expect(last.data["stopped"] as? Bool == true)
            #expect(model.record.cancelled == 1)
            let stored = try await store.messages(in: SessionID(trusted: "halt"))
            #expect(stored.last?.status == .partial)
            #expect(stored.last?.content.plainText == Self.text(of: events.list))
        }
    }

    @Test func aFinishedReplyIsResumedFromTheStoreOnceItLeavesMemory() async throws {
        let model = SlowModel(chunks: 6, interval: .milliseconds(5))
        let store = InMemoryChatStore()
        var harness = AppHarness(store: store)
        harness.model = model
        try await harness.runLive { port in
            let first = Events()
            _ = try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"hi","session_id":"from-store"}"#) {
                first.append($0)
                return true
            }
            // The tidy loop forgets a finished reply within a tick or two of its events being stored.
            try await Task.sleep(for: .milliseconds(700))
            let replay = Events()
            _ = try await SSEClient.stream(port: port, path: "/api/sessions/from-store/stream?last_event_id=3", method: .GET) {
                replay.append($0)
                return true
            }
            #expect(replay.list.map(\.id) == first.list.dropFirst(3).map(\.id))
            #expect(replay.list.map(\.event) == first.list.dropFirst(3).map(\.event))
            #expect(replay.list.last?.event == "done")

            // A client that saw every event (it reconnects after the last one) gets an empty
            // stream that ends at once, not one that waits for the longest a reply may run.
            let lastSeen = try #require(first.list.last?.id)
            let started = ContinuousClock.now
            let nothingNew = Events()
            _ = try await SSEClient.stream(port: port, path: "/api/sessions/from-store/stream?last_event_id=\(lastSeen)", method: .GET) {
                nothingNew.append($0)
                return true
            }
            #expect(nothingNew.list.isEmpty)
            #expect(ContinuousClock.now - started < .seconds(5))
            let stopAnswer = try await Self.stop(session: "from-store", port: port)
            #expect(stopAnswer.contains(#""stopped":false"#))
        }
    }

    /// What a server killed mid-reply leaves in `store` at `now`: the reply's first three events,
    /// no last one, and its claim on the session, which runs out at `claimUntil`.
    static func halfWrittenReply(in store: any ChatStore, session: SessionID, now: Date, claimUntil: Date) async throws {
        _ = try await store.createSessionIfAbsent(SessionRecord(id: session, agent: "assistant", title: "t", createdAt: now, updatedAt: now))
        let written: [ChatEvent] = [.session(id: session.rawValue), .delta(text: "Half an "), .delta(text: "answer")]
        try await store.appendReplyEvents([
            ReplyEventBatch(
                sessionID: session, replyID: "r-crashed",
                events: written.enumerated().map { SequencedChatEvent(sequence: $0.offset + 1, event: $0.element) },
                createdAt: now, expiresAt: now.addingTimeInterval(600)
            )
        ])
        _ = try await store.claimSession(session, forReply: "r-crashed", until: claimUntil, now: min(claimUntil, now))
    }

    @Test(arguments: StoreContractTests.Kind.allCases)
    func resumingAReplyWhoseServerWentAwayEndsWithReplyInterruptedInsteadOfWaiting(kind: StoreContractTests.Kind) async throws {
        let store = try await kind.make()
        let session = SessionID(trusted: "crashed-\(UUID().uuidString.prefix(8))")
        let harness = AppHarness(store: store)
        let now = harness.clock.now()
        try await Self.halfWrittenReply(in: store, session: session, now: now, claimUntil: now.addingTimeInterval(-60))
        try await harness.runLive { port in
            let started = ContinuousClock.now
            let events = Events()
            _ = try await SSEClient.stream(port: port, path: "/api/sessions/\(session)/stream?last_event_id=1", method: .GET) {
                events.append($0)
                return true
            }
            #expect(events.list.map(\.event) == ["delta", "delta", "error"])
            #expect(events.list.map(\.id) == ["2", "3", "4"])
            #expect(events.list.last?.data["error"] as? String == "reply_interrupted")
            #expect(ContinuousClock.now - started < .seconds(20), "the stream ends at once, not after the longest a reply may run (300 s)")
        }
    }

    @Test func aReplyStillClaimedInASharedStoreIsFollowedToItsEnd() async throws {
        let store = try await StoreContractTests.Kind.dynamodb.make()
        let session = SessionID(trusted: "elsewhere-\(UUID().uuidString.prefix(8))")
        // Another instance runs the reply: its claim holds for a minute more.
        let harness = AppHarness(store: store)
        let now = harness.clock.now()
        try await Self.halfWrittenReply(in: store, session: session, now: now, claimUntil: now.addingTimeInterval(60))
        try await harness.runLive { port in
            let finisher = Task {
                try await Task.sleep(for: .seconds(2))
                try await store.appendReplyEvents([
                    ReplyEventBatch(
                        sessionID: session, replyID: "r-crashed",
                        events: [SequencedChatEvent(sequence: 4, event: .done(messageID: "m1", response: "Half an answer", stopped: false))],
                        createdAt: now, expiresAt: now.addingTimeInterval(600)
                    )
                ])
            }
            let events = Events()
            _ = try await SSEClient.stream(port: port, path: "/api/sessions/\(session)/stream?last_event_id=1", method: .GET) {
                events.append($0)
                return true
            }
            try await finisher.value
            #expect(events.list.map(\.event) == ["delta", "delta", "done"], "followed while its instance holds the claim")
        }
    }

    @Test func aReplyTheStoreCouldNotTakeCanStillBeResumedFromMemory() async throws {
        let model = SlowModel(chunks: 4, interval: .milliseconds(5))
        var harness = AppHarness(store: FaultInjectingStore(faults: [.replyWrites]))
        harness.model = model
        try await harness.runLive { port in
            let first = Events()
            _ = try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"hi","session_id":"lost-write"}"#) {
                first.append($0)
                return true
            }
            #expect(first.list.last?.event == "error")
            try await Task.sleep(for: .milliseconds(700))
            let replay = Events()
            _ = try await SSEClient.stream(port: port, path: "/api/sessions/lost-write/stream?last_event_id=0", method: .GET) {
                replay.append($0)
                return true
            }
            #expect(replay.list.map(\.id) == first.list.map(\.id))
            #expect(replay.list.last?.event == "error")
            let stopAnswer = try await Self.stop(session: "lost-write", port: port)
            #expect(stopAnswer.contains(#""stopped":false"#))
        }
    }

    @Test func stoppingWhenNothingRunsSaysSo() async throws {
        try await AppHarness().run { client in
            #expect(try await client.post("/chat", json: #"{"message":"hi","session_id":"idle-session"}"#).status == .ok)
            let response = try await client.post("/api/sessions/idle-session/stop", json: "")
            #expect(response.status == .ok)
            #expect(response.json["stopped"] as? Bool == false)
            let missing = try await client.post("/api/sessions/no-such-session/stop", json: "")
            #expect(missing.json["stopped"] as? Bool == false)
        }
    }

    @Test func resumingASessionWithNoReplyIs404() async throws {
        try await AppHarness().run { client in
            let response = try await client.get("/api/sessions/nothing-here/stream")
            #expect(response.status == .notFound)
            let bad = try await client.get("/api/sessions/x/stream", headers: [HTTPField.Name("Last-Event-ID")!: "minus one"])
            #expect(bad.status == .badRequest)
        }
    }

    @Test func secondMessageWhileAReplyRunsIs409() async throws {
        var harness = AppHarness()
        harness.model = SlowModel(chunks: 100, interval: .milliseconds(10))
        try await harness.runLive { port in
            _ = try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"hi","session_id":"busy"}"#) { _ in false }
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/chat")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"message":"again","session_id":"busy"}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            #expect(response.status.code == 409)
        }
    }

    @Test(arguments: [StoreContractTests.Kind.memory, .sqlite])
    func messagesSentAtOnceToOneSessionStoreOnlyTheOneThatIsAnswered(kind: StoreContractTests.Kind) async throws {
        let store = try await kind.make()
        var harness = AppHarness(store: store)
        harness.model = SlowModel(chunks: 20, interval: .milliseconds(20))
        try await harness.run { client in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        Int(try await client.post("/chat", json: #"{"message":"at once \#(index)","session_id":"raced"}"#).status.code)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.sorted() == [200] + Array(repeating: 409, count: 7))
            // The refused ones left nothing behind: one question, one answer.
            let stored = try await store.messages(in: SessionID(trusted: "raced"))
            #expect(stored.map(\.role) == [.user, .assistant])
        }
    }

    @Test func pingIsBusyWhileAReplyRunsAndHealthyAfter() async throws {
        var harness = AppHarness()
        harness.model = SlowModel(chunks: 20, interval: .milliseconds(10))
        try await harness.runLive { port in
            @Sendable func ping() async throws -> String? {
                let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/ping"), timeout: .seconds(5))
                let body = try await response.body.collect(upTo: 4096)
                return (try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["status"] as? String
            }
            #expect(try await ping() == "Healthy")
            let sawBusy = Mutex(false)
            _ = try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"hi"}"#) { event in
                if event.event == "delta", try await ping() == "HealthyBusy" { sawBusy.withLock { $0 = true } }
                return true
            }
            #expect(sawBusy.withLock { $0 })
            try await waitUntil { try await ping() == "Healthy" }
        }
    }
}

/// Polls `condition` until it holds, failing the test after `timeout`.
func waitUntil(timeout: Duration = .seconds(10), _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within \(timeout)")
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
