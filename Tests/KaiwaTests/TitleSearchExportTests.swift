import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaiwaCore
import KaiwaStore
import Testing

/// What a person does with their list of conversations: the model names a new one, they
/// rename it, find it again by any word in it, and take it elsewhere.
struct TitleSearchExportTests {
    func rename(_ client: some TestClientProtocol, _ id: String, _ body: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/json"
        return try await client.execute(uri: "/api/sessions/\(id)", method: .patch, headers: fields, body: ByteBuffer(string: body))
    }

    func titles(_ client: some TestClientProtocol) async throws -> [String: String] {
        let sessions = try await client.get("/api/sessions").json["sessions"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: sessions.compactMap { s in (s["id"] as? String).map { ($0, s["title"] as? String ?? "") } })
    }

    @Test func aNewConversationIsTitledByTheModelAfterItsFirstReply() async throws {
        let model = TurnScriptedModel(scripts: [
            TurnScriptedModel.say("紅葉の季節なら嵐山がおすすめです。"),
            TurnScriptedModel.say("「秋の京都旅行」。\nThis is a title."),
            TurnScriptedModel.say("二つ目の返事です。"),
        ])
        var harness = AppHarness()
        harness.model = model
        try await harness.run { client in
            let answer = try await client.post("/chat", json: #"{"message":"週末に京都へ行くならどこがいい？","session_id":"kyoto"}"#)
            #expect(answer.status == .ok)
            var title = ""
            for _ in 0..<100 where title != "秋の京都旅行" {
                title = try await titles(client)["kyoto"] ?? ""
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(title == "秋の京都旅行")
            let asked = model.requests.recorded[1]
            #expect(asked.system?.contains("title") == true)
            #expect(asked.messages.last?.content.plainText.contains("週末に京都へ行くならどこがいい？") == true)
            #expect(asked.tools.isEmpty)
            // A second message does not ask for a title again.
            _ = try await client.post("/chat", json: #"{"message":"ありがとう","session_id":"kyoto"}"#)
            try await Task.sleep(for: .milliseconds(100))
            #expect(model.requests.recorded.count == 3)
            #expect(try await titles(client)["kyoto"] == "秋の京都旅行")
        }
    }

    @Test func withTheRulesModelOrAFailingOneTheTitleIsTheFirstMessage() async throws {
        try await AppHarness().run { client in
            _ = try await client.post("/chat", json: #"{"message":"こんにちは、元気ですか","session_id":"rules"}"#)
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await titles(client)["rules"] == "こんにちは、元気ですか")
        }
        let failing = TurnScriptedModel(scripts: [TurnScriptedModel.say("はい。"), [.textDelta("   "), .stop(.endTurn)]])
        var harness = AppHarness()
        harness.model = failing
        try await harness.run { client in
            _ = try await client.post("/chat", json: #"{"message":"質問があります","session_id":"blank"}"#)
            for _ in 0..<50 where failing.requests.recorded.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await titles(client)["blank"] == "質問があります")
        }
    }

    @Test func aPersonRenamesTheirConversationAndNoOneElses() async throws {
        try await AppHarness().run { client in
            _ = try await client.post("/chat", json: #"{"message":"hello","session_id":"mine"}"#)
            let renamed = try await rename(client, "mine", #"{"title":"  Trip plans  "}"#)
            #expect(renamed.status == .ok)
            #expect(renamed.json["title"] as? String == "Trip plans")
            #expect(try await titles(client)["mine"] == "Trip plans")
            #expect(try await rename(client, "nobody", #"{"title":"x"}"#).status == .notFound)
            for bad in [#"{"title":""}"#, #"{"title":"   "}"#, #"{"title":"a\nb"}"#, #"{"name":"x"}"#, "not json",
                        #"{"title":"\#(String(repeating: "x", count: 201))"}"#] {
                let response = try await rename(client, "mine", bad)
                #expect(response.status == .badRequest, "\(bad)")
                #expect(response.json["error"] as? String == "bad_request")
            }
            #expect(try await titles(client)["mine"] == "Trip plans")
        }
    }

    @Test func searchFindsTheCallersConversationsWithASnippet() async throws {
        try await AppHarness(store: try SQLiteChatStore(path: makeTemporaryDirectory().appendingPathComponent("k.sqlite").path)).run { client in
            _ = try await client.post("/chat", json: #"{"message":"来月のTypeScriptカンファレンスを探しています","session_id":"ts"}"#)
            _ = try await client.post("/chat", json: #"{"message":"How do actors work?","session_id":"swift"}"#)
            let found = try await client.get("/api/sessions?q=%E3%82%AB%E3%83%B3%E3%83%95%E3%82%A1%E3%83%AC%E3%83%B3%E3%82%B9")
            #expect(found.status == .ok)
            let sessions = try #require(found.json["sessions"] as? [[String: Any]])
            #expect(sessions.map { $0["id"] as? String } == ["ts"])
            #expect((sessions.first?["snippet"] as? String)?.contains("TypeScriptカンファレンス") == true)
            #expect(((try await client.get("/api/sessions?q=ACTORS")).json["sessions"] as? [[String: Any]])?.count == 1)
            #expect(((try await client.get("/api/sessions?q=nothing-like-this")).json["sessions"] as? [[String: Any]])?.isEmpty == true)
            for bad in ["q=", "q=%20%20", "q=\(String(repeating: "x", count: 201))", "q=a%00b"] {
                #expect(try await client.get("/api/sessions?\(bad)").status == .badRequest, "\(bad)")
            }
        }
    }

    @Test func aConversationIsExportedAsMarkdownOrJSON() async throws {
        try await AppHarness().run { client in
            _ = try await client.post("/chat", json: #"{"message":"こんにちは","session_id":"hello"}"#)
            let markdown = try await client.get("/api/sessions/hello/export?format=md")
            #expect(markdown.status == .ok)
            #expect(markdown.headers[.contentType] == "text/markdown; charset=utf-8")
            #expect(markdown.headers[.contentDisposition] == #"attachment; filename="kaiwa-hello.md""#)
            #expect(markdown.text.hasPrefix("# こんにちは\n\n## You · "))
            #expect(markdown.text.contains("\n\nこんにちは\n\n## Kaiwa (rules) · "))
            #expect(markdown.text.contains("こんにちは！何かお手伝いできることはありますか？"))
            let json = try await client.get("/api/sessions/hello/export?format=json")
            #expect(json.json["format"] as? String == "kaiwa.session.v1")
            #expect((json.json["session"] as? [String: Any])?["id"] as? String == "hello")
            let messages = try #require(json.json["messages"] as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String } == ["user", "assistant"])
            #expect(messages.first?["content"] is [[String: Any]])
            #expect(try await client.get("/api/sessions/hello/export?format=pdf").status == .badRequest)
            #expect(try await client.get("/api/sessions/nobody/export").status == .notFound)
        }
    }
}
