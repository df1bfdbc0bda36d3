import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaiwaAgent
import KaiwaAuth
import KaiwaCore
import KaiwaStore
import Testing

/// `/v1/chat/completions` and `/v1/models`, as OpenAI's SDKs and their users see them.
struct OpenAICompatibleTests {
    static func body(_ fields: String, model: String = "scripted") -> String {
        #"{"model": "\#(model)", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]\#(fields)}"#
    }

    /// The `data:` payloads of a stream, parsed (`[DONE]` as the string "[DONE]").
    static func events(_ text: String) -> [Any] {
        text.components(separatedBy: "\n\n").compactMap { event -> Any? in
            guard event.hasPrefix("data: ") else { return nil }
            let data = String(event.dropFirst(6))
            if data == "[DONE]" { return data }
            return try? JSONSerialization.jsonObject(with: Data(data.utf8))
        }
    }

    static func delta(_ chunk: Any) -> [String: Any]? {
        ((chunk as? [String: Any])?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
    }

    @Test func aCompletionAnswersInOpenAIsShapeWithUsage() async throws {
        let model = ScriptedModel.replying("Hello", " there")
        try await AppHarness(model: model).run { client in
            let response = try await client.post("/v1/chat/completions", json: Self.body(#", "temperature": 0.2, "max_tokens": 50, "stop": "END""#))
            #expect(response.status == .ok)
            let json = response.json
            #expect(json["object"] as? String == "chat.completion")
            #expect((json["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            #expect(json["model"] as? String == "scripted")
            let choice = try #require((json["choices"] as? [[String: Any]])?.first)
            #expect((choice["message"] as? [String: Any])?["content"] as? String == "Hello there")
            #expect((choice["message"] as? [String: Any])?["role"] as? String == "assistant")
            #expect(choice["finish_reason"] as? String == "stop")
            let usage = try #require(json["usage"] as? [String: Int])
            #expect(usage == ["prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19])
        }
        let sent = try #require(model.requests.recorded.first)
        #expect(sent.system == "Be brief.")
        #expect(sent.messages == [.user("hi")])
        #expect(sent.temperature == 0.2)
        #expect(sent.maxTokens == 50)
        #expect(sent.stopSequences == ["END"])
    }

    @Test func aStreamedCompletionSendsChunksThenUsageThenDone() async throws {
        try await AppHarness(model: ScriptedModel.replying("Hel", "lo")).run { client in
            let response = try await client.post("/v1/chat/completions", json: Self.body(#", "stream": true, "stream_options": {"include_usage": true}"#))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/event-stream") == true)
            let events = Self.events(response.text)
            #expect(events.last as? String == "[DONE]")
            #expect(Self.delta(events[0])?["role"] as? String == "assistant")
            let text = events.compactMap { Self.delta($0)?["content"] as? String }.joined()
            #expect(text == "Hello")
            let finish = events.compactMap { (($0 as? [String: Any])?["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
            #expect(finish == ["stop"])
            let usage = try #require(events.dropLast().last as? [String: Any])
            #expect((usage["choices"] as? [Any])?.isEmpty == true)
            #expect((usage["usage"] as? [String: Int])?["total_tokens"] == 19)
            #expect(events.allSatisfy { ($0 as? [String: Any])?["object"] as? String ?? "chat.completion.chunk" == "chat.completion.chunk" })

            let withoutUsage = Self.events(try await client.post("/v1/chat/completions", json: Self.body(#", "stream": true"#)).text)
            #expect(!withoutUsage.contains { ($0 as? [String: Any])?["usage"] != nil })
        }
    }

    static let weatherTool = #"[{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]"#

    @Test func clientToolsAreOfferedAndTheirCallsComeBackForTheClientToRun() async throws {
        let model = TurnScriptedModel(scripts: [
            TurnScriptedModel.callTool("get_weather", id: "call_1", input: #"{"city":"Tokyo"}"#),
            TurnScriptedModel.say("It is sunny in Tokyo."),
        ])
        try await AppHarness(model: model).run { client in
            let first = try await client.post(
                "/v1/chat/completions", json: Self.body(#", "tools": \#(Self.weatherTool), "tool_choice": "auto""#, model: "scripted-agent")
            )
            let choice = try #require((first.json["choices"] as? [[String: Any]])?.first, "\(first.text)")
            #expect(choice["finish_reason"] as? String == "tool_calls")
            let call = try #require(((choice["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first)
            #expect(call["id"] as? String == "call_1")
            #expect(call["type"] as? String == "function")
            let function = try #require(call["function"] as? [String: String])
            #expect(function["name"] == "get_weather")
            #expect(function["arguments"] == #"{"city":"Tokyo"}"#)

            let second = try await client.post(
                "/v1/chat/completions",
                json: #"""
                    {"model": "scripted-agent", "tools": \#(Self.weatherTool), "messages": [
                      {"role": "user", "content": "Weather in Tokyo?"},
                      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Tokyo\"}"}}]},
                      {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21°C"}
                    ]}
                    """#
            )
            #expect(second.status == .ok)
            let answer = (second.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
            #expect(answer?["content"] as? String == "It is sunny in Tokyo.")
        }
        let followUp = try #require(model.requests.recorded.last)
        #expect(followUp.tools.map(\.name) == ["get_weather"])
        #expect(followUp.messages.count == 3)
        #expect(followUp.messages[1].content == [.toolUse(id: "call_1", name: "get_weather", input: .object(["city": .string("Tokyo")]))])
        #expect(followUp.messages[2].content == [.toolResult(toolUseID: "call_1", isError: false, content: "sunny, 21°C")])
    }

    @Test func aStreamedToolCallArrivesAsOpenAIToolCallDeltas() async throws {
        let model = TurnScriptedModel(scripts: [TurnScriptedModel.callTool("get_weather", id: "call_9", input: #"{"city":"Osaka"}"#)])
        try await AppHarness(model: model).run { client in
            let events = Self.events(
                try await client.post("/v1/chat/completions", json: Self.body(#", "stream": true, "tools": \#(Self.weatherTool)"#, model: "scripted-agent")).text
            )
            let calls = events.compactMap { (Self.delta($0)?["tool_calls"] as? [[String: Any]])?.first }
            #expect(calls.first?["id"] as? String == "call_9")
            #expect((calls.first?["function"] as? [String: Any])?["name"] as? String == "get_weather")
            #expect(calls.allSatisfy { $0["index"] as? Int == 0 })
            let arguments = calls.compactMap { ($0["function"] as? [String: Any])?["arguments"] as? String }.joined()
            #expect(arguments == #"{"city":"Osaka"}"#)
        }
    }

    @Test func anAgentModelRunsItsServerSideToolsAndAnswers() async throws {
        let model = TurnScriptedModel(scripts: [
            TurnScriptedModel.callTool("echo", id: "t1", input: #"{"text":"ping"}"#), TurnScriptedModel.say("The tool said: echo: ping"),
        ])
        let echo = EchoTool()
        let agents = AgentCatalog(
            profiles: [AgentProfile(name: "helper", displayName: "Helper", systemPrompt: "You help.", tools: ["echo"])], defaultName: "helper"
        )
        let store = InMemoryChatStore()
        try await AppHarness(store: store, model: model, tools: ["echo": echo], agents: agents).run { client in
            let models = try await client.get("/v1/models")
            #expect(models.json["object"] as? String == "list")
            #expect((models.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["scripted-agent", "agent:helper"])

            let response = try await client.post("/v1/chat/completions", json: Self.body("", model: "agent:helper"))
            #expect(response.status == .ok)
            let message = (response.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
            #expect(message?["content"] as? String == "The tool said: echo: ping")
            #expect(message?["tool_calls"] == nil)
            #expect(response.json["model"] as? String == "agent:helper")
            #expect((response.json["usage"] as? [String: Int])?["total_tokens"] == 15)
        }
        #expect(echo.calls.next() == 2)
        #expect(model.requests.recorded.first?.system == "You help.\n\nBe brief.")
        #expect(try await store.listSessions(owner: nil, limit: 10, after: nil).isEmpty)
    }

    @Test(arguments: [
        (#"{"model": "scripted", "n": 2, "messages": [{"role": "user", "content": "hi"}]}"#, "n"),
        (#"{"model": "scripted", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}"#, "messages[0].content[0]"),
        (#"{"model": "scripted", "messages": [{"role": "wizard", "content": "hi"}]}"#, "messages[0].role"),
        (#"{"model": "scripted", "messages": [{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "x", "content": "?"}]}"#, "messages[1].tool_call_id"),
        (#"{"model": "scripted", "messages": []}"#, "messages"),
        (#"{"model": "scripted", "temperature": 3, "messages": [{"role": "user", "content": "hi"}]}"#, "temperature"),
        (#"{"model": "scripted", "tool_choice": "required", "messages": [{"role": "user", "content": "hi"}]}"#, "tool_choice"),
        (#"{"model": "scripted", "stop": ["a", "b", "c", "d", "e"], "messages": [{"role": "user", "content": "hi"}]}"#, "stop"),
        (#"{"model": "agent:assistant", "tools": \#(weatherTool), "messages": [{"role": "user", "content": "hi"}]}"#, "tools"),
    ])
    func aRequestOpenAIWouldRefuseIsA400InOpenAIsErrorShape(body: String, parameter: String) async throws {
        let model = ScriptedModel.replying("never")
        try await AppHarness(model: model).run { client in
            let response = try await client.post("/v1/chat/completions", json: body)
            #expect(response.status == .badRequest)
            let error = try #require(response.json["error"] as? [String: Any])
            #expect(error["type"] as? String == "invalid_request_error")
            #expect(error["param"] as? String == parameter)
            #expect((error["message"] as? String)?.isEmpty == false)
            #expect(error.keys.sorted() == ["code", "message", "param", "type"])
        }
        #expect(model.requests.recorded.isEmpty)
    }

    @Test func unknownModelsAndPathsAre404sInOpenAIsShape() async throws {
        try await AppHarness(model: ScriptedModel.replying("x")).run { client in
            let model = try await client.post("/v1/chat/completions", json: Self.body("", model: "gpt-4o"))
            #expect(model.status == .notFound)
            let error = try #require(model.json["error"] as? [String: Any])
            #expect(error["code"] as? String == "model_not_found")
            #expect((error["message"] as? String)?.contains("Known models: scripted, agent:assistant, agent:confee") == true)
            let path = try await client.get("/v1/embeddings")
            #expect(path.status == .notFound)
            #expect((path.json["error"] as? [String: Any])?["code"] as? String == "not_found")
            // The rest of the API keeps Kaiwa's own shape.
            #expect(try await client.get("/api/nothing").json["error"] as? String == "not_found")
        }
    }

    @Test(arguments: [(ModelError.Kind.unavailable, HTTPResponse.Status.serviceUnavailable, "server_error"), (.timeout, .gatewayTimeout, "timeout")])
    func aModelThatFailsBeforeAnsweringIsAnHTTPErrorEvenWhenStreaming(kind: ModelError.Kind, status: HTTPResponse.Status, type: String) async throws {
        try await AppHarness(model: ScriptedModel([.fail(ModelError(kind, "upstream detail"))])).run { client in
            for fields in ["", #", "stream": true"#] {
                let response = try await client.post("/v1/chat/completions", json: Self.body(fields))
                #expect(response.status == status)
                let error = try #require(response.json["error"] as? [String: Any])
                #expect(error["type"] as? String == type)
                #expect(!response.text.contains("upstream detail"))
            }
        }
    }

    @Test func aModelThatFailsMidStreamEndsTheStreamWithAnError() async throws {
        try await AppHarness(model: ScriptedModel([.event(.textDelta("par")), .fail(ModelError(.unavailable, "reset"))])).run { client in
            let response = try await client.post("/v1/chat/completions", json: Self.body(#", "stream": true"#))
            #expect(response.status == .ok)
            let events = Self.events(response.text)
            #expect(events.compactMap { Self.delta($0)?["content"] as? String }.joined() == "par")
            let error = try #require((events.last as? [String: Any])?["error"] as? [String: Any])
            #expect(error["code"] as? String == "service_unavailable")
            #expect(!events.contains { $0 as? String == "[DONE]" })
        }
    }

    @Test func withSignInOnTheOpenAIRoutesNeedAKeyAndCountTokensTowardTheQuota() async throws {
        let store = InMemoryChatStore()
        var harness = AppHarness(store: store, model: ScriptedModel.replying("ok"))
        harness.configuration.auth.mode = .init(jwt: false, apiKey: true)
        harness.configuration.auth.limits = UsageLimits(requestsPerMinute: 0, concurrentReplies: 0, tokensPerDay: 30)
        let key = try await APIKeys(store: store).create(user: "sdk-user", name: nil, expiresAt: nil).key
        try await harness.run { client in
            let anonymous = try await client.post("/v1/chat/completions", json: Self.body(""))
            #expect(anonymous.status == .unauthorized)
            #expect((anonymous.json["error"] as? [String: Any])?["code"] as? String == "invalid_api_key")
            #expect(anonymous.headers[.wwwAuthenticate] != nil)
            #expect(try await client.get("/v1/models").status == .unauthorized)

            let signedIn: HTTPFields = [.authorization: "Bearer \(key)"]
            // 19 tokens each: the second reply passes the 30-token quota, the third is refused.
            for _ in 0..<2 {
                #expect(try await client.post("/v1/chat/completions", json: Self.body(""), headers: signedIn).status == .ok)
            }
            let refused = try await client.post("/v1/chat/completions", json: Self.body(""), headers: signedIn)
            #expect(refused.status == .tooManyRequests)
            #expect((refused.json["error"] as? [String: Any])?["type"] as? String == "insufficient_quota")
            #expect(refused.headers[.retryAfter] != nil)
        }
    }
}
