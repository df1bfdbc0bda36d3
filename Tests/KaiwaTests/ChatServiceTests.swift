import Foundation
import KaiwaAgent
import KaiwaCore
import KaiwaModels
import KaiwaStore
import Synchronization
import Testing

struct ChatServiceTests {
    let clock = TestClock()

    func service(model: any ModelProvider = RulesModel(), store: any ChatStore = InMemoryChatStore(), idle: Duration? = .seconds(1800)) -> ChatService {
        ChatService(store: store, model: model, settings: ChatSettings(idleTimeout: idle), clock: clock)
    }

    func collect(_ chat: ChatService, _ turn: ChatTurn) async -> (events: [SequencedChatEvent], outcome: ReplyOutcome) {
        let events = Mutex<[SequencedChatEvent]>([])
        let outcome = await chat.run(turn) { event in events.withLock { $0.append(event) } }
        return (events.withLock { $0 }, outcome)
    }

    @Test func userMessageIsStoredBeforeTheModelIsCalled() async throws {
        let store = InMemoryChatStore()
        let seenByModel = Mutex<[String]>([])
        let model = ScriptedModel([.event(.textDelta("ok")), .event(.stop(.endTurn))]) { request in
            let id = SessionID(trusted: "s-1")
            let stored = (try? await store.messages(in: id).map(\.content.plainText)) ?? []
            seenByModel.withLock { $0 = stored }
        }
        let chat = service(model: model, store: store)
        let turn = try await chat.begin(ChatRequest(message: "first", sessionID: SessionID(trusted: "s-1")))
        _ = await collect(chat, turn)
        #expect(seenByModel.withLock { $0 } == ["first"])
    }

    @Test func replyIsStreamedAsNumberedEventsAndStored() async throws {
        let chat = service(model: ScriptedModel.replying("Hel", "lo"))
        let turn = try await chat.begin(ChatRequest(message: "hi"))
        let (events, outcome) = await collect(chat, turn)
        #expect(events.map(\.sequence) == Array(1...events.count))
        #expect(events.map(\.event.type) == ["session", "delta", "delta", "usage", "done"])
        guard case .done(let messageID, let response, let stopped, let model, _) = events.last?.event else {
            Issue.record("no done event")
            return
        }
        #expect(response == "Hello")
        #expect(!stopped)
        #expect(model == "scripted")
        let stored = try await chat.store.messages(in: turn.session.id)
        #expect(stored.map(\.role) == [.user, .assistant])
        #expect(stored[1].id == messageID)
        #expect(stored[1].status == .complete)
        #expect(stored[1].model == "scripted")
        #expect(stored[1].usage == TokenUsage(inputTokens: 12, outputTokens: 7))
        #expect(outcome.text == "Hello")
    }

    @Test func modelSeesTheConversationSoFar() async throws {
        let model = ScriptedModel.replying("ok")
        let chat = service(model: model)
        let first = try await chat.begin(ChatRequest(message: "one"))
        _ = await collect(chat, first)
        let second = try await chat.begin(ChatRequest(message: "two", sessionID: first.session.id))
        _ = await collect(chat, second)
        let last = try #require(model.requests.recorded.last)
        #expect(last.messages.map(\.content.plainText) == ["one", "ok", "two"])
        #expect(last.system == AgentProfile.assistant.systemPrompt)
    }

    @Test func modelFailingMidReplyEndsWithAnErrorEventAndKeepsThePartialText() async throws {
        let chat = service(model: ScriptedModel([.event(.textDelta("par")), .fail(UpstreamBroke())]))
        let turn = try await chat.begin(ChatRequest(message: "hi"))
        let (events, outcome) = await collect(chat, turn)
        #expect(events.last?.event == .error(code: "service_unavailable", message: outcome.error?.message ?? ""))
        let stored = try await chat.store.messages(in: turn.session.id)
        #expect(stored.last?.status == .partial)
        #expect(stored.last?.content.plainText == "par")
    }

    @Test func modelFailingBeforeAnyTextIsStoredAsAnError() async throws {
        let chat = service(model: ScriptedModel([.fail(ModelError(.throttled, "429"))]))
        let turn = try await chat.begin(ChatRequest(message: "hi"))
        let (events, _) = await collect(chat, turn)
        #expect(events.last?.event.type == "error")
        let stored = try await chat.store.messages(in: turn.session.id)
        #expect(stored.last?.status == .error)
        #expect(stored.last?.content.isEmpty == true)
    }

    @Test func cancelledReplyIsStoredAsPartial() async throws {
        let gate = AsyncStream<Void>.makeStream()
        let model = ScriptedModel([.event(.textDelta("start"))]) { _ in }
        struct Slow: ModelProvider {
            let inner: ScriptedModel
            let started: AsyncStream<Void>.Continuation
            var modelID: String { "slow" }
            func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelStreamEvent, any Error> {
                let started = self.started
                let sent = Mutex(false)
                return AsyncThrowingStream(unfolding: {
                    if sent.withLock({ let was = $0; $0 = true; return !was }) {
                        return .textDelta("start")
                    }
                    started.yield()
                    try await Task.sleep(for: .seconds(60))
                    return nil
                })
            }
        }
        let chat = service(model: Slow(inner: model, started: gate.continuation))
        let turn = try await chat.begin(ChatRequest(message: "hi"))
        let task = Task { await collect(chat, turn) }
        for await _ in gate.stream { break }
        task.cancel()
        let (events, outcome) = await task.value
        #expect(events.last?.event == .done(messageID: outcome.message?.id ?? "", response: "start", stopped: true, model: "slow"))
        let stored = try await chat.store.messages(in: turn.session.id)
        #expect(stored.last?.status == .partial)
        #expect(stored.last?.content.plainText == "start")
    }

    @Test func idleSessionRefusesNewMessagesButKeepsItsHistory() async throws {
        let chat = service(idle: .seconds(60))
        let turn = try await chat.begin(ChatRequest(message: "hi"))
        _ = await collect(chat, turn)
        clock.advance(seconds: 61)
        let error = await #expect(throws: KaiwaError.self) {
            try await chat.begin(ChatRequest(message: "again", sessionID: turn.session.id))
        }
        #expect(error?.code == .sessionExpired)
        #expect(try await chat.store.messages(in: turn.session.id).count == 2)
    }

    @Test func idleTimeoutOfZeroNeverExpires() async throws {
        let chat = service(idle: nil)
        let turn = try await chat.begin(ChatRequest(message: "hi"))
        clock.advance(seconds: 365 * 24 * 3600)
        _ = try await chat.begin(ChatRequest(message: "still there?", sessionID: turn.session.id))
    }

    @Test func unknownAgentIsRefusedAndNothingIsStored() async throws {
        let store = InMemoryChatStore()
        let chat = service(store: store)
        let error = await #expect(throws: KaiwaError.self) {
            try await chat.begin(ChatRequest(message: "hi", agent: "nobody"))
        }
        #expect(error?.code == .unknownAgent)
        #expect(try await store.listSessions(owner: nil, limit: 10, after: nil).isEmpty)
    }

    @Test func sessionTitleIsTheStartOfTheFirstMessage() async throws {
        let chat = service()
        let turn = try await chat.begin(ChatRequest(message: String(repeating: "あ", count: 100) + "\nsecond line"))
        #expect(turn.session.title == String(repeating: "あ", count: 60) + "…")
        let short = try await chat.begin(ChatRequest(message: "  \u{3000}東京の勉強会 \t\nplease"))
        #expect(short.session.title == "東京の勉強会")
        // 60 characters made of 120 scalars (a base letter and a combining mark each) are not cut.
        let combined = String(repeating: "e\u{301}", count: 60)
        #expect(try await chat.begin(ChatRequest(message: combined)).session.title == combined)
    }

    @Test func aMessageOfOnlyWhitespaceIsRefusedAndNothingIsStored() async throws {
        let store = InMemoryChatStore()
        let chat = service(store: store)
        let error = await #expect(throws: KaiwaError.self) {
            try await chat.begin(ChatRequest(message: " \n\t\u{3000}\u{2028}"))
        }
        #expect(error?.code == .badRequest)
        #expect(try await store.listSessions(owner: nil, limit: 10, after: nil).isEmpty)
    }
}
