import Foundation
import Hummingbird
import HummingbirdTesting
import KaiwaCore
import KaiwaStore
import KaiwaTools
import Testing

/// Seed 001's Confee end to end: `/api/agents`, then a conversation over `/chat/stream` in
/// which the (scripted) model searches connpass and answers in Markdown.
struct ConfeeTests {
    static let markdown = """
        ## TypeScript のイベント

        - [TSKaigi 2026](https://tskaigi.connpass.com/event/1/) — 12月5日（土）10:00〜18:00、ベルサール神田（参加 320/500 人）
        - [Swift勉強会](https://swift.connpass.com/event/2/) — 12月10日（木）19:00〜、オンライン

        気になるイベントがあれば、早めに申し込んでください。
        """

    @Test func agentsAreListedWithTheirSuggestedPrompts() async throws {
        try await AppHarness().run { client in
            let response = try await client.get("/api/agents")
            #expect(response.status == .ok)
            let agents = try #require(response.json["agents"] as? [[String: Any]])
            #expect(agents.map { $0["name"] as? String } == ["assistant", "confee"])
            let confee = try #require(agents.last)
            #expect((confee["suggested_prompts"] as? [String])?.contains("TypeScriptのカンファレンスある？") == true)
            #expect((confee["suggested_prompts"] as? [String])?.contains("面白そうなイベント教えて") == true)
            #expect(confee["tools"] as? [String] == ["search_connpass"])
            #expect(response.json["default_agent"] as? String == "assistant")
        }
    }

    @Test func confeeSearchesConnpassAndAnswersInMarkdown() async throws {
        let model = TurnScriptedModel(scripts: [
            TurnScriptedModel.callTool("search_connpass", id: "tooluse_1", input: #"{"keyword":"TypeScript","order":2}"#),
            [.textDelta(String(Self.markdown.prefix(40))), .textDelta(String(Self.markdown.dropFirst(40))), .stop(.endTurn)],
        ])
        try await withFakeUpstream({ router in
            router.get("/api/v2/events/") { _, _ in ConnpassToolTests.json(ConnpassToolTests.answer) }
        }) { base in
            var harness = AppHarness()
            harness.model = model
            harness.tools = ["search_connpass": ConnpassToolTests.tool(base)]
            try await harness.runLive { port in
                let events = StreamingTests.Events()
                _ = try await SSEClient.stream(
                    port: port, path: "/chat/stream", json: #"{"message":"TypeScriptのカンファレンスある？","agent":"confee","session_id":"confee-1"}"#
                ) {
                    events.append($0)
                    return true
                }
                let kinds = events.list.compactMap(\.event)
                #expect(kinds == ["session", "tool_call", "tool_result", "delta", "delta", "done"])
                let call = try #require(events.list.first { $0.event == "tool_call" }?.data)
                #expect(call["name"] as? String == "search_connpass")
                let result = try #require(events.list.first { $0.event == "tool_result" }?.data)
                #expect(result["ok"] as? Bool == true)
                #expect(events.list.last?.data["response"] as? String == Self.markdown)

                let first = try #require(model.requests.recorded.first)
                #expect(first.system?.contains("今日は2027年1月15日（金）です") == true)
                #expect(first.tools.map(\.name) == ["search_connpass"])
                let fed = try #require(model.requests.turns.last?.messages.last?.content.first)
                guard case .toolResult(_, false, let content) = fed else {
                    Issue.record("the tool result did not reach the model")
                    return
                }
                #expect(content.contains("TSKaigi 2026"))
                try Self.writeTranscript(events.list)
            }
        }
    }

    @Test func confeeWithoutAConnpassKeySaysSearchIsNotConfigured() async throws {
        let model = TurnScriptedModel(scripts: [
            TurnScriptedModel.callTool("search_connpass", id: "t1", input: #"{"keyword":"Swift"}"#),
            TurnScriptedModel.say("検索が設定されていないため、イベントを探せませんでした。"),
        ])
        var harness = AppHarness()
        harness.model = model
        harness.tools = ["search_connpass": ConnpassToolTests.tool("http://127.0.0.1:9", key: nil)]
        try await harness.run { client in
            let response = try await client.post("/chat", json: #"{"message":"Swiftのイベント","agent":"confee"}"#)
            #expect(response.status == .ok)
            guard case .toolResult(_, true, let content)? = model.requests.turns.last?.messages.last?.content.first else {
                Issue.record("no error result")
                return
            }
            #expect(content.contains("not configured"))
        }
    }

    /// Writes the conversation as a person would read it, for the closing note.
    static func writeTranscript(_ events: [ReceivedEvent]) throws {
        var lines = ["**User:** TypeScriptのカンファレンスある？", ""]
        for event in events {
            switch event.event {
            case "tool_call": lines.append("→ tool_call `\(event.data["name"] as? String ?? "")` \(event.rawData.map { String($0.prefix(200)) } ?? "")")
            case "tool_result": lines.append("← tool_result ok=\(event.data["ok"] as? Bool ?? false): \(event.data["summary"] as? String ?? "")")
            case "done": lines += ["", "**Confee:**", "", event.data["response"] as? String ?? ""]
            default: break
            }
        }
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("test-output")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try lines.joined(separator: "\n").write(to: folder.appendingPathComponent("confee-transcript.md"), atomically: true, encoding: .utf8)
    }
}
