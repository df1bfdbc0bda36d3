import AsyncHTTPClient
import Foundation
import GRDB
import HummingbirdTesting
import KaiwaAWS
import KaiwaCore
import KaiwaDynamoDBStore
import KaiwaStore
import Testing

/// The store failing under a running server: SQLite's disk filling up, DynamoDB going away
/// mid-reply. Clients get `store_unavailable` (503), never a 500; what was stored before
/// stays readable; the server carries on without a restart once the store is back.
@Suite(.serialized) struct StoreFaultTests {
    /// Mounting a tmpfs needs root (and a kernel that allows it, as containers may not).
    static let canMountTmpfs: Bool = {
        guard geteuid() == 0, let directory = try? makeTemporaryDirectory() else { return false }
        defer { try? FileManager.default.removeItem(at: directory) }
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", directory.path]) == 0 else { return false }
        return run("/bin/umount", [directory.path]) == 0
    }()

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test(.enabled(if: canMountTmpfs, "needs root and permission to mount a tmpfs"))
    func aFullDiskAnswers503KeepsTheHistoryAndRecoversWhenSpaceReturns() async throws {
        let directory = try makeTemporaryDirectory()
        #expect(Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", directory.path]) == 0)
        defer { Self.run("/bin/umount", ["-l", directory.path]) }
        let database = directory.appendingPathComponent("kaiwa.sqlite").path
        let harness = AppHarness(store: try SQLiteChatStore(path: database))
        try await harness.run { client in
            for index in 1...3 {
                #expect(try await client.post("/chat", json: #"{"message":"before \#(index)","session_id":"kept"}"#).status == .ok)
            }
            let before = try await client.get("/api/sessions/kept").json["messages"] as? [[String: Any]]
            #expect(before?.count == 6)

            // Fill the disk: dd stops when no space is left.
            let filler = directory.appendingPathComponent("filler").path
            Self.run("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=64k"])
            let big = String(repeating: "書", count: 10_000)
            var statuses: [Int] = []
            for index in 1...60 {
                let response = try await client.post("/chat", json: #"{"message":"\#(big) \#(index)","session_id":"full"}"#)
                statuses.append(Int(response.status.code))
                if response.status == .serviceUnavailable {
                    #expect(response.json["error"] as? String == "store_unavailable")
                    #expect((response.json["message"] as? String)?.contains("disk is full") == true)
                    #expect(response.headers[.retryAfter] == "5")
                    break
                }
            }
            #expect(statuses.last == 503, "writes kept succeeding on a full disk: \(statuses)")
            #expect(!statuses.contains(500), "a full disk answered 500: \(statuses)")

            // Earlier history reads as it was.
            let during = try await client.get("/api/sessions/kept")
            #expect(during.status == .ok)
            #expect((during.json["messages"] as? [[String: Any]])?.compactMap { $0["text"] as? String } == before?.compactMap { $0["text"] as? String })

            // Space returns: the same server takes messages again.
            try FileManager.default.removeItem(atPath: filler)
            let after = try await client.post("/chat", json: #"{"message":"after","session_id":"kept"}"#)
            #expect(after.status == .ok, "\(after.text)")
            #expect((try await client.get("/api/sessions/kept").json["messages"] as? [[String: Any]])?.count == 8)
        }
        let check = try await DatabaseQueue(path: database).read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        #expect(check == "ok")
    }

    /// A moto_server of this test's own on `port` (the shared one must stay up for other tests).
    static func startMoto(port: Int) async throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec moto_server -H 127.0.0.1 -p \(port) >/dev/null 2>&1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try await waitUntil(timeout: .seconds(60)) {
            (try? await HTTPClient.shared.execute(.init(url: "http://127.0.0.1:\(port)/moto-api/"), timeout: .seconds(1)))?.status.code == 200
        }
        return process
    }

    @Test func dynamoDBGoingAwayMidReplyEndsItWithAClearErrorAndServiceResumesWhenItIsBack() async throws {
        let port = try freeLoopbackPort()
        let moto = Shared(try await Self.startMoto(port: port).processIdentifier)
        defer { kill(moto.get(), SIGKILL) }
        // A short connect timeout, as a deployment next to its DynamoDB would set: each call to
        // an unreachable endpoint is tried three times, each waiting for it.
        var settings = HTTPClient.Configuration()
        settings.timeout.connect = .seconds(1)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: settings)
        do {
            try await Self.goAwayMidReply(moto: moto, port: port, http: http)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    static func goAwayMidReply(moto: Shared<Int32>, port: Int, http: HTTPClient) async throws {
        let client = DynamoDBClient(
            endpoint: "http://127.0.0.1:\(port)", region: "ap-northeast-1", credentials: MotoServer.TestingKeys(), client: http
        )
        let tables = DynamoDBTables(prefix: MotoServer.freshPrefix())
        _ = try await tables.create(using: client)
        let store = DynamoDBChatStore(client: client, tables: tables, retention: 7 * 24 * 3600)
        let harness = AppHarness(store: store, model: SlowModel(chunks: 40, interval: .milliseconds(50)))
        try await harness.runLive { serverPort in
            let events = Shared<[ReceivedEvent]>([])
            let ended = try await withTimeout(.seconds(30)) {
                _ = try await SSEClient.stream(port: serverPort, path: "/chat/stream", json: #"{"message":"hello","session_id":"gone"}"#) { event in
                    events.update { $0.append(event) }
                    if event.event == "delta" && events.get().filter({ $0.event == "delta" }).count == 3 {
                        kill(moto.get(), SIGKILL)
                    }
                    return true
                }
            }
            #expect(ended, "the reply never ended")
            let last = events.get().last
            #expect(last?.event == "error")
            #expect(last?.data["error"] as? String == "store_unavailable", "\(last?.rawData ?? "")")
            #expect(events.get().filter { $0.event == "delta" }.count == 40, "the model's text still streamed to the client")

            let health = try await HTTPClient.shared.execute(.init(url: "http://127.0.0.1:\(serverPort)/health"), timeout: .seconds(30))
            #expect(health.status == .serviceUnavailable)

            // DynamoDB is back (moto keeps nothing: the tables are made again, as after a restore).
            moto.set(try await Self.startMoto(port: port).processIdentifier)
            _ = try await tables.create(using: client)
            try await waitUntil(timeout: .seconds(30)) {
                (try? await HTTPClient.shared.execute(.init(url: "http://127.0.0.1:\(serverPort)/health"), timeout: .seconds(5)))?.status == .ok
            }
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(serverPort)/chat")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(.init(string: #"{"message":"again"}"#))
            let answer = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(answer.status == .ok)
        }
    }
}
