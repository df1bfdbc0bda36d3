import Foundation
@testable import KaiwaAgent
import KaiwaCore
import KaiwaStore
import Synchronization
import Testing

/// The tool-calling loop, driven by a scripted model.
struct AgentLoopTests {
    static let toolAgent = AgentProfile(name: "tooler", displayName: "Tooler", systemPrompt: "Use tools.", tools: ["echo", "slow"])

    func chat(_ model: TurnScriptedModel, tools: [any Tool], maxCycles: Int = 8, toolTimeout: Duration = .seconds(5)) -> ChatService {
        ChatService(
            store: InMemoryChatStore(), model: model, tools: Dictionary(uniqueKeysWithValues: tools.map { ($0.spec.name, $0) }),
            agents: AgentCatalog(profiles: [.assistant, Self.toolAgent], defaultName: "tooler"),
            settings: ChatSettings(maxCycles: maxCycles, toolTimeout: toolTimeout)
        )
    }

    func reply(_ chat: ChatService, _ message: String = "go") async throws -> (events: [ChatEvent], turn: ChatTurn) {
        let turn = try await chat.begin(ChatRequest(message: message))
        let events = Mutex<[ChatEvent]>([])
        await chat.run(turn) { event in events.withLock { $0.append(event.event) } }
        return (events.withLock { $0 }, turn)
    }

    @Test func toolCallRunsAndItsResultGoesBackToTheModel() async throws {
        let model = TurnScriptedModel(scripts: [TurnScriptedModel.callTool("echo", id: "t1", input: #"{"text":"hello"}"#), TurnScriptedModel.say("Done.")])
        let echo = EchoTool()
        let chat = chat(model, tools: [echo])
        let (events, turn) = try await reply(chat)
        #expect(events.contains(.toolCall(id: "t1", name: "echo", input: .object(["text": .string("hello")]))))
        #expect(events.contains(.toolResult(id: "t1", ok: true, summary: "echoed 5 characters")))
        #expect(echo.calls.value == 1)
        let second = try #require(model.requests.recorded.last)
        #expect(second.messages.last?.content == [.toolResult(toolUseID: "t1", isError: false, content: "echo: hello")])
        #expect(second.tools.map(\.name) == ["echo"])
        let stored = try await chat.store.messages(in: turn.session.id)
        #expect(stored.map(\.role) == [.user, .assistant, .user, .assistant])
        #expect(stored[3].content.plainText == "Done.")
    }

    @Test func hugeToolOutputIsCutWithANoteBeforeTheModelAndTheStoreSeeIt() async throws {
        let huge = String(repeating: "あ", count: 70_000)
        let model = TurnScriptedModel(scripts: [
            TurnScriptedModel.callTool("echo", id: "t1", input: #"{"text":"\#(huge)"}"#), TurnScriptedModel.say("Done."),
        ])
        let chat = chat(model, tools: [EchoTool()])
        let (_, turn) = try await reply(chat)
        guard case .toolResult(_, _, let content)? = try await chat.store.messages(in: turn.session.id)[2].content.first else {
            Issue.record("the tool result was not stored")
            return
        }
        #expect(content.utf8.count <= 64 * 1024 + 40)
        #expect(content.hasPrefix("echo: あああ"))
        #expect(content.hasSuffix("…(output cut at 64 KiB)"))
        #expect(model.requests.recorded.last?.messages.last?.content.first == .toolResult(toolUseID: "t1", isError: false, content: content))
    }

    @Test func severalToolCallsRunConcurrently() async throws {
        let both: [ModelStreamEvent] =
            Array(TurnScriptedModel.callTool("slow", id: "a", input: #"{"text":"1"}"#).dropLast())
            + Array(TurnScriptedModel.callTool("slow", id: "b", input: #"{"text":"2"}"#).dropLast()) + [.stop(.toolUse)]
        let model = TurnScriptedModel(scripts: [both, TurnScriptedModel.say("ok")])
        let slow = EchoTool(name: "slow", delay: .milliseconds(500))
        let (events, _) = try await reply(chat(model, tools: [slow]))
        #expect(slow.overlap.get().most == 2)
        #expect(events.filter { if case .toolResult(_, true, _) = $0 { true } else { false } }.count == 2)
    }

    @Test func invalidInputIsAnErrorResultAndTheToolIsNotCalled() async throws {
        let model = TurnScriptedModel(scripts: [
            TurnScriptedModel.callTool("echo", id: "t1", input: #"{"mode":"whisper","text":7}"#), TurnScriptedModel.say("Sorry."),
        ])
        let echo = EchoTool()
        let (events, _) = try await reply(chat(model, tools: [echo]))
        #expect(echo.calls.value == 0)
        let result = model.requests.recorded.last?.messages.last?.content.first
        guard case .toolResult(_, true, let content)? = result else {
            Issue.record("no error result: \(String(describing: result))")
            return
        }
        #expect(content.contains("input.mode must be one of"))
        #expect(content.contains("input.text must be a string"))
        #expect(events.contains { if case .toolResult(_, false, _) = $0 { true } else { false } })
    }

    @Test func unknownToolAndMalformedJSONInputAreErrorResultsNotFailures() async throws {
        let model = TurnScriptedModel(scripts: [TurnScriptedModel.callTool("nope", id: "t1", input: "{}"), TurnScriptedModel.say("ok")])
        let (events, _) = try await reply(chat(model, tools: [EchoTool()]))
        #expect(events.last.map { if case .done = $0 { true } else { false } } == true)
        let broken = TurnScriptedModel(scripts: [TurnScriptedModel.callTool("echo", id: "t1", input: "{not json")])
        let (brokenEvents, _) = try await reply(chat(broken, tools: [EchoTool()]))
        #expect(brokenEvents.last.map { if case .error = $0 { true } else { false } } == true)
    }

    @Test func endlessToolCallingStopsAtTheCycleCapAndSaysSo() async throws {
        let model = TurnScriptedModel(scripts: [TurnScriptedModel.callTool("echo", id: "again", input: #"{"text":"x"}"#)])
        let echo = EchoTool()
        let (events, turn) = try await reply(chat(model, tools: [echo], maxCycles: 3))
        #expect(model.requests.recorded.count == 3)
        #expect(echo.calls.value == 2)
        guard case .done(_, let response, _, _, _)? = events.last else {
            Issue.record("no done")
            return
        }
        #expect(response.contains("stopped after 3 rounds"))
        _ = turn
    }

    @Test func slowToolTimesOutAsAnErrorResult() async throws {
        let model = TurnScriptedModel(scripts: [TurnScriptedModel.callTool("slow", id: "t1", input: #"{"text":"x"}"#), TurnScriptedModel.say("It timed out.")])
        let (events, _) = try await reply(chat(model, tools: [EchoTool(name: "slow", delay: .seconds(10))], toolTimeout: .milliseconds(200)))
        #expect(events.contains { if case .toolResult("t1", false, let summary) = $0 { summary.contains("did not answer") } else { false } })
    }

    @Test func contextWindowKeepsRecentHistoryAndNeverSplitsAToolCallFromItsResult() {
        let long = String(repeating: "x", count: 400)
        let history: [ChatMessage] = [
            .user(long), .assistant(long),
            ChatMessage(role: .assistant, content: [.toolUse(id: "t", name: "echo", input: .object([:]))]),
            ChatMessage(role: .user, content: [.toolResult(toolUseID: "t", isError: false, content: long)]),
            .assistant("answer"), .user("next question"),
        ]
        let window = ContextWindow.select(history, budgetTokens: 150, maxMessages: 1000)
        #expect(window.first?.role == .user)
        #expect(!(window.first?.content.contains { if case .toolResult = $0 { true } else { false } } ?? true))
        #expect(window.last == .user("next question"))
        #expect(ContextWindow.select(history, budgetTokens: 100_000, maxMessages: 1000).count == history.count)
    }
}

/// The schema validator as the connpass tests reach it.
enum JSONSchemaValidatorProbe {
    static func problems(_ value: JSONValue, maximum: Double) -> [String] {
        JSONSchemaValidator.problems(in: value, against: .object(["type": .string("number"), "maximum": .number(maximum)]))
    }
}
