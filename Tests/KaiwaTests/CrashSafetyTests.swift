import Foundation
import GRDB
import HummingbirdWSClient
import KaiwaDynamoDBStore
import Logging
import Testing

/// `kill -9` in the middle of streamed replies (over SSE and WebSocket at once), then a restart
/// on the same store: every message the server acknowledged is there once, every interrupted
/// reply is there as `partial` with the text it had streamed (up to its last store write), a
/// resume of it ends instead of hanging, the session takes new messages, and SQLite's file
/// passes `PRAGMA integrity_check`. `bench/chaos.sh` runs the same rounds many times.
@Suite(.serialized) struct CrashSafetyTests {
    /// 3 in the test suite; `bench/chaos.sh` asks for more.
    static let rounds = ProcessInfo.processInfo.environment["KAIWA_CHAOS_ROUNDS"].flatMap(Int.init) ?? 3
    static let sseClients = 3
    static let webSocketClients = 2

    /// What one client saw of its reply before the server died.
    final class Conversation: Sendable {
        let session: String
        let message: String
        let acknowledged = Shared(false)
        let received = Shared("")
        let deltas = Shared(0)

        init(session: String) {
            self.session = session
            message = "slow please (\(session))"
        }

        func record(type: String?, text: String?) {
            if type == "session" { acknowledged.set(true) }
            if type == "delta", let text {
                received.update { $0 += text }
                deltas.update { $0 += 1 }
            }
        }
    }

    @Test func repliesCutByAKillAreKeptAsPartialOnSQLite() async throws {
        let directory = try makeTemporaryDirectory()
        let database = directory.appendingPathComponent("kaiwa.sqlite").path
        try await withSlowPleaseModel { baseURL, _ in
            let environment = ["KAIWA_MODEL": "openai:fake", "KAIWA_OPENAI_BASE_URL": baseURL + "/v1"]
            let tally = try await Self.runRounds(arguments: ["--store", "sqlite", "--sqlite-path", database], environment: environment)
            let check = try await DatabaseQueue(path: database).read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
            #expect(check == "ok")
            print("chaos sqlite: \(tally.summary), integrity_check \(check ?? "-")")
        }
    }

    @Test func repliesCutByAKillAreKeptAsPartialOnDynamoDB() async throws {
        let prefix = MotoServer.freshPrefix()
        _ = try await DynamoDBTables(prefix: prefix).create(using: try await MotoServer.client())
        let moto = try await MotoServer.shared.url()
        try await withSlowPleaseModel { baseURL, _ in
            let environment = [
                "AWS_ENDPOINT_URL_DYNAMODB": moto, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": "ap-northeast-1", "KAIWA_DYNAMODB_TABLE_PREFIX": prefix, "KAIWA_MODEL": "openai:fake",
                "KAIWA_OPENAI_BASE_URL": baseURL + "/v1",
                // A dead instance's claim on a session holds it this long: the reply counts as interrupted after it.
                "KAIWA_REPLY_SESSION_LEASE": "3",
            ]
            let tally = try await Self.runRounds(arguments: ["--store", "dynamodb"], environment: environment)
            print("chaos dynamodb: \(tally.summary)")
        }
    }

    /// What the rounds found, printed for `bench/chaos.sh`.
    final class Tally: Sendable {
        let counts = Shared<[String: Int]>([:])
        func add(_ name: String, _ amount: Int = 1) { counts.update { $0[name, default: 0] += amount } }
        var summary: String {
            let names = ["rounds", "replies cut", "acknowledged", "kept as partial", "lost", "duplicated", "resumes ended", "answered after"]
            return names.map { "\($0) \(counts.get()[$0] ?? 0)" }.joined(separator: ", ")
        }
    }

    static func runRounds(arguments: [String], environment: [String: String]) async throws -> Tally {
        let tally = Tally()
        var earlier: [Conversation] = []
        for round in 1...rounds {
            let server = try await KaiwaProcess(arguments: arguments, environment: environment)
            let conversations = (0..<(sseClients + webSocketClients)).map { Conversation(session: "crash-r\(round)-c\($0)") }
            let clients = Task {
                await withTaskGroup(of: Void.self) { group in
                    for (index, conversation) in conversations.enumerated() {
                        group.addTask {
                            if index < sseClients {
                                try? await streamOverSSE(conversation, port: server.port)
                            } else {
                                try? await streamOverWebSocket(conversation, port: server.port)
                            }
                        }
                    }
                }
            }
            // Every reply is streaming and some of its text has reached the store (written every quarter second).
            try await waitUntil(timeout: .seconds(20)) { conversations.allSatisfy { $0.deltas.get() >= 5 } }
            try await Task.sleep(for: .milliseconds(600))
            server.stop()
            await clients.value
            #expect(conversations.allSatisfy { $0.acknowledged.get() }, "round \(round): a client got no `session` event")
            tally.add("rounds")
            tally.add("replies cut", conversations.count)
            tally.add("acknowledged", conversations.filter { $0.acknowledged.get() }.count)

            let restarted = try await KaiwaProcess(arguments: arguments, environment: environment)
            defer { restarted.stop() }
            for conversation in conversations {
                try await checkInterrupted(conversation, on: restarted, round: round, tally: tally)
            }
            for conversation in earlier {
                let messages = try await restarted.request(.GET, "/api/sessions/\(conversation.session)").body["messages"] as? [[String: Any]]
                #expect(messages?.count == 4, "round \(round): an earlier round's session \(conversation.session) changed")
            }
            earlier += conversations
        }
        return tally
    }

    /// After the restart: the user's message once, then the reply as far as it was stored,
    /// `partial`; a resume ends with `reply_interrupted`; a new message is answered.
    static func checkInterrupted(_ conversation: Conversation, on server: KaiwaProcess, round: Int, tally: Tally) async throws {
        let path = "/api/sessions/\(conversation.session)"
        // In a shared store the dead instance's claim must run out first.
        try await waitUntil(timeout: .seconds(20)) {
            (try await server.request(.GET, path).body["messages"] as? [[String: Any]] ?? []).count >= 2
        }
        let messages = try await server.request(.GET, path).body["messages"] as? [[String: Any]] ?? []
        let context = "round \(round), \(conversation.session)"
        #expect(messages.compactMap { $0["role"] as? String } == ["user", "assistant"], "\(context)")
        #expect(messages.first?["text"] as? String == conversation.message, "\(context)")
        #expect(messages.last?["status"] as? String == "partial", "\(context)")
        let stored = messages.last?["text"] as? String ?? ""
        #expect(!stored.isEmpty, "\(context): the reply's stored text is empty")
        #expect(conversation.received.get().hasPrefix(stored), "\(context): stored \(stored.count) characters the client never saw")
        let userMessages = messages.filter { $0["text"] as? String == conversation.message }.count
        if userMessages == 0 { tally.add("lost") }
        if userMessages > 1 || messages.count > 2 { tally.add("duplicated") }
        if messages.last?["status"] as? String == "partial" && !stored.isEmpty { tally.add("kept as partial") }

        let resumed = Shared<[String]>([])
        let ended = try await withTimeout(.seconds(15)) {
            _ = try await SSEClient.stream(port: server.port, path: path + "/stream", method: .GET) { event in
                resumed.update { $0.append(event.event ?? "") }
                return true
            }
        }
        #expect(ended, "\(context): the resume did not end")
        #expect(resumed.get().last == "error", "\(context): the resume ended with \(resumed.get().suffix(1))")
        if ended && resumed.get().last == "error" { tally.add("resumes ended") }

        let next = try await server.request(.POST, "/chat", json: #"{"message":"again","session_id":"\#(conversation.session)"}"#)
        #expect(next.status == 200, "\(context): \(next.body)")
        if next.status == 200 { tally.add("answered after") }
    }

    static func streamOverSSE(_ conversation: Conversation, port: Int) async throws {
        let body = #"{"message":"\#(conversation.message)","session_id":"\#(conversation.session)"}"#
        _ = try await SSEClient.stream(port: port, path: "/chat/stream", json: body) { event in
            conversation.record(type: event.event, text: event.data["text"] as? String)
            return true
        }
    }

    static func streamOverWebSocket(_ conversation: Conversation, port: Int) async throws {
        _ = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/ws", logger: Logger(label: "crash-test")) { inbound, outbound, _ in
            try await outbound.write(
                .text(#"{"action":"sendMessage","message":"\#(conversation.message)","session_id":"\#(conversation.session)"}"#)
            )
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .text(let text) = message,
                    let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
                else { continue }
                conversation.record(type: object["type"] as? String, text: object["text"] as? String)
            }
        }
    }
}

/// Runs `operation` for at most `limit`; `false` when it had not finished by then (it is cancelled).
func withTimeout(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> Void) async throws -> Bool {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await operation()
            return true
        }
        group.addTask {
            try await Task.sleep(for: limit)
            return false
        }
        let first = try await group.next() ?? false
        group.cancelAll()
        return first
    }
}
