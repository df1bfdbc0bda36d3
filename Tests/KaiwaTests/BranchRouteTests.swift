import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaiwaCore
import KaiwaStore
import Testing

/// What a person does with branches: fix a question and send it again, ask for another
/// answer, and move between the versions, with the model seeing only the branch they are on.
struct BranchRouteTests {
    func harness(_ replies: [String], store: any ChatStore = InMemoryChatStore()) -> (AppHarness, TurnScriptedModel) {
        let model = TurnScriptedModel(scripts: replies.map { TurnScriptedModel.say($0) })
        var harness = AppHarness()
        harness.model = model
        harness.store = store
        harness.configuration.titlesFromModel = false
        return (harness, model)
    }

    func messages(_ client: some TestClientProtocol, _ id: String, query: String = "") async throws -> [[String: Any]] {
        try await client.get("/api/sessions/\(id)\(query)").json["messages"] as? [[String: Any]] ?? []
    }

    func texts(_ messages: [[String: Any]]) -> [String] { messages.map { $0["text"] as? String ?? "" } }

    func put(_ client: some TestClientProtocol, _ uri: String, _ body: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .put, headers: [.contentType: "application/json"], body: ByteBuffer(string: body))
    }

    /// Two turns: Q1 → A1 → Q2 → A2.
    func twoTurns(_ client: some TestClientProtocol, id: String = "s") async throws -> [[String: Any]] {
        _ = try await client.post("/chat", json: #"{"message":"Q1","session_id":"\#(id)"}"#)
        _ = try await client.post("/chat", json: #"{"message":"Q2","session_id":"\#(id)"}"#)
        return try await messages(client, id)
    }

    @Test func anEditedQuestionStreamsANewReplyAndKeepsTheOldOneAsASibling() async throws {
        let (harness, model) = harness(["A1", "A2", "A2 for the edit"])
        try await harness.run { client in
            let before = try await twoTurns(client)
            let q2 = try #require(before[2]["id"] as? String)
            let stream = try await client.post("/api/sessions/s/messages/\(q2)/edit", json: #"{"message":"Q2, fixed"}"#)
            #expect(stream.status == .ok)
            #expect(stream.headers[.contentType]?.hasPrefix("text/event-stream") == true)
            #expect(stream.text.contains("event: done"))
            #expect(stream.text.contains("A2 for the edit"))
            // The model saw the branch up to the edit: not the old Q2 and A2.
            #expect(model.requests.turns.last?.messages.map(\.content.plainText) == ["Q1", "A1", "Q2, fixed"])
            let after = try await messages(client, "s")
            #expect(texts(after) == ["Q1", "A1", "Q2, fixed", "A2 for the edit"])
            let branch = try #require(after[2]["branch"] as? [String: Any])
            #expect(branch["position"] as? Int == 2)
            #expect(branch["count"] as? Int == 2)
            #expect(branch["siblings"] as? [String] == [q2, after[2]["id"] as? String ?? ""])
            #expect(after[0]["branch"] == nil)
            #expect(after[2]["parent_seq"] as? Int == 2)
        }
    }

    @Test func aRegeneratedReplyIsASiblingAndTheModelSeesTheQuestionAgain() async throws {
        let (harness, model) = harness(["A1", "A2", "A2, again"])
        try await harness.run { client in
            let before = try await twoTurns(client)
            let a2 = try #require(before[3]["id"] as? String)
            // No body at all is fine.
            let stream = try await client.execute(uri: "/api/sessions/s/messages/\(a2)/regenerate", method: .post)
            #expect(stream.status == .ok)
            #expect(stream.text.contains("A2, again"))
            #expect(model.requests.turns.last?.messages.map(\.content.plainText) == ["Q1", "A1", "Q2"])
            let after = try await messages(client, "s")
            #expect(texts(after) == ["Q1", "A1", "Q2", "A2, again"])
            #expect((after[3]["branch"] as? [String: Any])?["siblings"] as? [String] == [a2, after[3]["id"] as? String ?? ""])
            // The whole tree, on request.
            let tree = try await client.get("/api/sessions/s?tree=true").json
            #expect(texts(tree["messages"] as? [[String: Any]] ?? []) == ["Q1", "A1", "Q2", "A2", "A2, again"])
            #expect((tree["path"] as? [String])?.count == 4)
            // The next message continues the regenerated branch.
            _ = try await client.post("/chat", json: #"{"message":"Q3","session_id":"s"}"#)
            #expect(model.requests.turns.last?.messages.map(\.content.plainText) == ["Q1", "A1", "Q2", "A2, again", "Q3"])
        }
    }

    @Test func switchingToASiblingShowsItsBranchDownToItsNewestReply() async throws {
        let (harness, model) = harness(["A1", "A2", "A2′", "A3"])
        try await harness.run { client in
            let before = try await twoTurns(client)
            let q2 = try #require(before[2]["id"] as? String)
            _ = try await client.post("/api/sessions/s/messages/\(q2)/edit", json: #"{"message":"Q2′"}"#)
            let switched = try await put(client, "/api/sessions/s/branch", #"{"message_id":"\#(q2)"}"#)
            #expect(switched.status == .ok)
            #expect(texts(switched.json["messages"] as? [[String: Any]] ?? []) == ["Q1", "A1", "Q2", "A2"])
            #expect(texts(try await messages(client, "s")) == ["Q1", "A1", "Q2", "A2"])
            // The model now sees the branch switched to.
            _ = try await client.post("/chat", json: #"{"message":"Q3","session_id":"s"}"#)
            #expect(model.requests.turns.last?.messages.map(\.content.plainText) == ["Q1", "A1", "Q2", "A2", "Q3"])
            let markdown = try await client.get("/api/sessions/s/export?format=md").text
            #expect(markdown.contains("Q3") && !markdown.contains("Q2′"))
            let json = try await client.get("/api/sessions/s/export?format=json").json
            #expect((json["messages"] as? [[String: Any]])?.count == 8)
            #expect((json["path"] as? [String])?.count == 6)
        }
    }

    @Test func editsOfMessagesThatAreNotTheCallersOrNotThereAreRefused() async throws {
        let (open, _) = self.harness(["A1", "A2", "A3"])
        try await open.run { client in
            let before = try await twoTurns(client)
            let q1 = try #require(before[0]["id"] as? String)
            let a1 = try #require(before[1]["id"] as? String)
            let missing = try await client.post("/api/sessions/s/messages/nope/edit", json: #"{"message":"x"}"#)
            #expect(missing.status == .notFound)
            #expect(missing.json["error"] as? String == "not_found")
            let noSession = try await client.post("/api/sessions/other/messages/\(q1)/edit", json: #"{"message":"x"}"#)
            #expect(noSession.status == .notFound)
            let reply = try await client.post("/api/sessions/s/messages/\(a1)/edit", json: #"{"message":"x"}"#)
            #expect(reply.status == .badRequest)
            let question = try await client.execute(uri: "/api/sessions/s/messages/\(q1)/regenerate", method: .post)
            #expect(question.status == .badRequest)
            let empty = try await client.post("/api/sessions/s/messages/\(q1)/edit", json: #"{"message":"  "}"#)
            #expect(empty.status == .badRequest)
            let badSwitch = try await put(client, "/api/sessions/s/branch", #"{"message_id":"nope"}"#)
            #expect(badSwitch.status == .notFound)
            let noID = try await put(client, "/api/sessions/s/branch", #"{}"#)
            #expect(noID.status == .badRequest)
            // Nothing was changed by any of them.
            #expect(texts(try await messages(client, "s")) == ["Q1", "A1", "Q2", "A2"])
        }
    }

    @Test(arguments: StoreContractTests.Kind.allCases)
    func someoneElsesMessageIsAnsweredLikeAMissingOne(kind: StoreContractTests.Kind) async throws {
        try await OwnershipTests.withTwoUsers(kind) { client, users, _ in
            _ = try await client.post("/chat", json: #"{"message":"Q1","session_id":"alice-b"}"#, headers: users.alice)
            let detail = try await client.get("/api/sessions/alice-b", headers: users.alice).json
            let ids = (detail["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(ids.count == 2)
            let edit = try await client.post("/api/sessions/alice-b/messages/\(ids[0])/edit", json: #"{"message":"mine now"}"#, headers: users.bob)
            let missing = try await client.post("/api/sessions/nobody/messages/\(ids[0])/edit", json: #"{"message":"mine now"}"#, headers: users.bob)
            #expect(OwnershipTests.shape(edit, id: "alice-b") == OwnershipTests.shape(missing, id: "nobody"))
            #expect(edit.status == .notFound)
            let regenerate = try await client.execute(uri: "/api/sessions/alice-b/messages/\(ids[1])/regenerate", method: .post, headers: users.bob)
            #expect(regenerate.status == .notFound)
            var headers = users.bob
            headers[.contentType] = "application/json"
            let switched = try await client.execute(
                uri: "/api/sessions/alice-b/branch", method: .put, headers: headers, body: ByteBuffer(string: #"{"message_id":"\#(ids[0])"}"#)
            )
            #expect(switched.status == .notFound)
            let after = try await client.get("/api/sessions/alice-b?tree=true", headers: users.alice).json
            #expect((after["messages"] as? [[String: Any]])?.count == 2)
        }
    }

    @Test func anEditedFirstQuestionStartsTheConversationOver() async throws {
        let (harness, model) = harness(["A1", "A2", "A1′"])
        try await harness.run { client in
            let before = try await twoTurns(client)
            let q1 = try #require(before[0]["id"] as? String)
            _ = try await client.post("/api/sessions/s/messages/\(q1)/edit", json: #"{"message":"Q1′"}"#)
            #expect(model.requests.turns.last?.messages.map(\.content.plainText) == ["Q1′"])
            let after = try await messages(client, "s")
            #expect(texts(after) == ["Q1′", "A1′"])
            #expect((after[0]["branch"] as? [String: Any])?["position"] as? Int == 2)
            #expect(after[0]["parent_seq"] == nil)
        }
    }
}
