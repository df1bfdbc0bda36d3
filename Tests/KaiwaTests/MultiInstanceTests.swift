import AsyncHTTPClient
import Foundation
import Hummingbird
import KaiwaDynamoDBStore
import NIOCore
import NIOHTTP1
import Testing

/// Two `kaiwa serve` processes sharing one DynamoDB (moto_server): a conversation moves between
/// them, both list the same sessions, a session takes one reply at a time whichever instance is
/// asked, and a stop sent to one stops a reply running on the other.
@Suite(.serialized) struct MultiInstanceTests {
    static func withTwoInstances(_ body: @Sendable (KaiwaProcess, KaiwaProcess, Shared<[String]>) async throws -> Void) async throws {
        let prefix = MotoServer.freshPrefix()
        _ = try await DynamoDBTables(prefix: prefix).create(using: try await MotoServer.client())
        let moto = try await MotoServer.shared.url()
        try await withSlowPleaseModel { baseURL, requests in
            let environment = [
                "AWS_ENDPOINT_URL_DYNAMODB": moto, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": "ap-northeast-1", "KAIWA_DYNAMODB_TABLE_PREFIX": prefix, "KAIWA_MODEL": "openai:fake",
                "KAIWA_OPENAI_BASE_URL": baseURL + "/v1",
            ]
            let first = try await KaiwaProcess(arguments: ["--store", "dynamodb"], environment: environment)
            defer { first.stop() }
            let second = try await KaiwaProcess(arguments: ["--store", "dynamodb"], environment: environment)
            defer { second.stop() }
            try await body(first, second, requests)
        }
    }

    @Test func aConversationContinuesAlternatelyOnTwoInstancesAndBothListIt() async throws {
        try await Self.withTwoInstances { first, second, requests in
            for (index, instance) in [first, second, first].enumerated() {
                let answer = try await instance.request(.POST, "/chat", json: #"{"message":"turn \#(index)","session_id":"shared-1"}"#)
                #expect(answer.status == 200)
                #expect(answer.body["response"] as? String == "noted")
            }
            // The third turn, on the first instance, sent the model the turn the second one took.
            #expect(requests.get().last?.contains("turn 1") == true)

            for instance in [first, second] {
                let conversation = try await instance.request(.GET, "/api/sessions/shared-1")
                let texts = (conversation.body["messages"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
                #expect(texts == ["turn 0", "noted", "turn 1", "noted", "turn 2", "noted"])
            }
            let listedByFirst = try await first.request(.GET, "/api/sessions").body["sessions"] as? [[String: Any]]
            let listedBySecond = try await second.request(.GET, "/api/sessions").body["sessions"] as? [[String: Any]]
            #expect(listedByFirst?.compactMap { $0["id"] as? String } == ["shared-1"])
            #expect(listedBySecond?.compactMap { $0["id"] as? String } == ["shared-1"])
        }
    }

    @Test func aStopSentToOneInstanceStopsTheReplyRunningOnTheOther() async throws {
        try await Self.withTwoInstances { first, second, _ in
            let stoppedAt = Shared<ContinuousClock.Instant?>(nil)
            let doneStopped = Shared<Bool?>(nil)
            let started = ContinuousClock.now
            _ = try await SSEClient.stream(port: first.port, path: "/chat/stream", json: #"{"message":"slow please","session_id":"shared-2"}"#) {
                event in
                if event.event == "delta" && stoppedAt.get() == nil {
                    // One reply at a time per session, whichever instance is asked.
                    let busy = try await second.request(.POST, "/chat", json: #"{"message":"me too","session_id":"shared-2"}"#)
                    #expect(busy.status == 409)
                    #expect(busy.body["error"] as? String == "conflict")
                    let answer = try await second.request(.POST, "/api/sessions/shared-2/stop")
                    #expect(answer.status == 200)
                    #expect(answer.body["stopped"] as? Bool == true)
                    stoppedAt.set(ContinuousClock.now)
                }
                if event.event == "done" {
                    doneStopped.set(event.data["stopped"] as? Bool)
                    return false
                }
                return true
            }
            let finished = ContinuousClock.now
            #expect(doneStopped.get() == true)
            // Stopped within the documented delay (a store check every second), long before
            // the ten seconds the whole reply would take.
            let delay = finished - (stoppedAt.get() ?? started)
            #expect(delay < .seconds(6), "the stop took \(delay)")

            let conversation = try await second.request(.GET, "/api/sessions/shared-2")
            let messages = conversation.body["messages"] as? [[String: Any]] ?? []
            #expect(messages.last?["status"] as? String == "partial")
            // A stop for a session with no running reply says so, and the session takes messages again.
            #expect(try await second.request(.POST, "/api/sessions/shared-2/stop").body["stopped"] as? Bool == false)
            #expect(try await second.request(.POST, "/chat", json: #"{"message":"after","session_id":"shared-2"}"#).status == 200)
        }
    }
}
