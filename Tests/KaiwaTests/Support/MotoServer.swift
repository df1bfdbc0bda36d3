import AsyncHTTPClient
import Foundation
import KaiwaAWS
import KaiwaDynamoDBStore

/// One `moto_server` (PyPI `moto[server]`, DynamoDB's wire protocol) on loopback for the
/// whole test run, started on first use on a free port. A small shell watchdog stops it when the test
/// process ends (with SIGKILL: the child inherits a signal mask from the test process in which
/// SIGTERM may be blocked). Each test makes its own tables under a fresh prefix.
actor MotoServer {
    static let shared = MotoServer()

    private var started: Task<String, any Error>?

    /// The server's URL, starting it if needed.
    func url() async throws -> String {
        if let started { return try await started.value }
        let task = Task { try await Self.start() }
        started = task
        return try await task.value
    }

    private static func start() async throws -> String {
        // A port taken meanwhile (tests open many connections) makes moto exit: try another.
        for _ in 0..<3 {
            let port = try freeLoopbackPort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = [
                "-c",
                "moto_server -H 127.0.0.1 -p \(port) >/dev/null 2>&1 & m=$!; "
                    + "while kill -0 \(getpid()) 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 1; done; kill -9 $m 2>/dev/null",
            ]
            // The watchdog must not hold the test process's output open, or `swift test` would wait for it.
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let url = "http://127.0.0.1:\(port)"
            let deadline = ContinuousClock.now + .seconds(60)
            while process.isRunning && ContinuousClock.now < deadline {
                if (try? await testHTTPClient.execute(.init(url: url + "/moto-api/"), timeout: .seconds(1)))?.status.code == 200 {
                    return url
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            kill(process.processIdentifier, SIGKILL)
        }
        throw MotoUnavailable()
    }

    struct MotoUnavailable: Error, CustomStringConvertible {
        var description: String { "moto_server did not start (is `moto[server]` installed? scripts/test installs it)" }
    }

    struct TestingKeys: AWSCredentialProvider {
        func credentials() async throws -> AWSCredentials? { AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing") }
    }

    /// A client for the shared server.
    static func client() async throws -> DynamoDBClient {
        DynamoDBClient(endpoint: try await shared.url(), region: "ap-northeast-1", credentials: TestingKeys(), client: testHTTPClient)
    }

    /// A prefix no other test uses.
    static func freshPrefix() -> String {
        "t" + UUID().uuidString.prefix(8).lowercased() + "-"
    }

    /// A DynamoDB store on fresh tables.
    /// A store on fresh tables, or on the tables of `prefix` (made when missing).
    /// A store on fresh tables whose attached files go to a fresh bucket of moto's S3.
    static func makeStoreWithAttachments(pageSize: Int? = nil) async throws -> DynamoDBChatStore {
        var store = try await makeStore(pageSize: pageSize)
        let s3 = S3Client(
            bucket: "kaiwa-" + UUID().uuidString.prefix(8).lowercased(), region: "ap-northeast-1", endpoint: try await shared.url(),
            credentials: TestingKeys(), client: testHTTPClient
        )
        try await s3.createBucket()
        store.attachmentObjects = AttachmentObjects(s3: s3, prefix: "attachments/")
        return store
    }

    static func makeStore(retention: TimeInterval = 7 * 24 * 3600, pageSize: Int? = nil, prefix: String? = nil) async throws -> DynamoDBChatStore {
        let client = try await client()
        let tables = DynamoDBTables(prefix: prefix ?? freshPrefix())
        _ = try await tables.create(using: client)
        return DynamoDBChatStore(client: client, tables: tables, retention: retention, pageSize: pageSize)
    }
}
