import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaiwaAgent
import KaiwaCore
import KaiwaStore
import Testing

/// `GET /metrics`: off unless asked for, guarded by its token, and counting what operators
/// look at: requests by route and status, replies by outcome, model time and tokens by model,
/// tool calls by tool, store calls by operation, open streams, rate-limit rejections.
struct MetricsTests {
    static func harness(token: String? = nil) -> AppHarness {
        var harness = AppHarness()
        harness.configuration.metricsEnabled = true
        harness.configuration.metricsToken = token
        return harness
    }

    @Test func metricsAreOffByDefault() async throws {
        try await AppHarness().run { client in
            let response = try await client.get("/metrics")
            #expect(response.status == .notFound)
        }
    }

    @Test func requestsRepliesModelTimeAndStoreCallsAreCounted() async throws {
        var harness = Self.harness()
        harness.model = ScriptedModel.replying("Hello", " there")
        try await harness.run { client in
            #expect(try await client.post("/chat", json: #"{"message":"hi","session_id":"m1"}"#).status == .ok)
            #expect(try await client.post("/chat", json: #"{"message":"hi","session_id":"m1"}"#).status == .ok)
            #expect(try await client.get("/api/sessions/m1").status == .ok)
            #expect(try await client.get("/api/sessions/nobody").status == .notFound)
            #expect(try await client.post("/chat", json: "{").status == .badRequest)
            let response = try await client.get("/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = response.text
            for line in [
                #"kaiwa_http_requests_total{method="POST",route="/chat",status="200"} 2"#,
                #"kaiwa_http_requests_total{method="POST",route="/chat",status="400"} 1"#,
                // The route, not the path: session ids stay out of the metrics.
                #"kaiwa_http_requests_total{method="GET",route="/api/sessions/{id}",status="404"} 1"#,
                #"kaiwa_replies_total{outcome="complete"} 2"#,
                #"kaiwa_model_duration_seconds_count{model="scripted"} 2"#,
                #"kaiwa_model_time_to_first_token_seconds_count{model="scripted"} 2"#,
                #"kaiwa_model_tokens_total{model="scripted",direction="input"} 24"#,
                #"kaiwa_model_tokens_total{model="scripted",direction="output"} 14"#,
                #"kaiwa_store_call_duration_seconds_count{operation="open_session"} 2"#,
                #"kaiwa_store_call_duration_seconds_count{operation="append_messages"} 2"#,
            ] {
                #expect(text.contains(line), "missing: \(line)")
            }
            #expect(!text.contains("m1"))
        }
    }

    @Test func toolCallsAreCountedByToolAndOutcome() async throws {
        var harness = Self.harness()
        harness.model = TurnScriptedModel(scripts: [TurnScriptedModel.callTool("echo", id: "t1", input: #"{"text":"hello"}"#), TurnScriptedModel.say("Done.")])
        harness.tools = ["echo": EchoTool()]
        harness.agents = AgentCatalog(profiles: [.assistant, AgentLoopTests.toolAgent], defaultName: "tooler")
        try await harness.run { client in
            let answer = try await client.post("/chat", json: #"{"message":"echo it"}"#)
            #expect(answer.status == .ok)
            let metrics = try await client.get("/metrics").text
            #expect(metrics.contains(#"kaiwa_tool_calls_total{tool="echo",outcome="ok"} 1"#), "\(metrics)")
        }
    }

    @Test func theMetricsTokenIsRequiredWhenSet() async throws {
        try await Self.harness(token: "scrape-secret").run { client in
            #expect(try await client.get("/metrics").status == .unauthorized)
            #expect(try await client.get("/metrics", headers: [.authorization: "Bearer wrong-secret!"]).status == .unauthorized)
            let answer = try await client.get("/metrics", headers: [.authorization: "Bearer scrape-secret"])
            #expect(answer.status == .ok)
            #expect(answer.text.contains("kaiwa_http_requests_total"))
        }
    }

    @Test func openStreamsAreCountedWhileTheyRun() async throws {
        var harness = Self.harness()
        harness.model = SlowModel(chunks: 10, interval: .milliseconds(100))
        try await harness.runLive { port in
            let during = Shared("")
            _ = try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"go"}"#) { event in
                if event.event == "delta" && during.get().isEmpty {
                    let metrics = try await Self.scrape(port: port)
                    during.set(metrics)
                }
                return true
            }
            #expect(during.get().contains(#"kaiwa_streams_open{transport="sse"} 1"#))
            let after = try await Self.scrape(port: port)
            #expect(after.contains(#"kaiwa_streams_open{transport="sse"} 0"#))
        }
    }

    static func scrape(port: Int) async throws -> String {
        let response = try await HTTPClient.shared.execute(.init(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(10))
        return String(buffer: try await response.body.collect(upTo: 1 << 20))
    }
}
