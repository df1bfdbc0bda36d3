import Foundation
import KaiwaDynamoDBStore
import Testing

/// `kaiwa store create-tables` as people run it: the real binary against moto_server.
struct StoreCommandTests {
    static func run(_ arguments: [String], environment: [String: String]) async throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kaiwa")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        return try await runToExit(process)
    }

    @Test func createTablesCreatesTheFiveTablesOnceAndSaysSo() async throws {
        let prefix = MotoServer.freshPrefix()
        let environment = [
            "AWS_ENDPOINT_URL_DYNAMODB": try await MotoServer.shared.url(), "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "ap-northeast-1",
        ]
        let first = try await Self.run(["store", "create-tables", "--table-prefix", prefix], environment: environment)
        #expect(first.status == 0)
        #expect(first.output.split(separator: "\n").count == 5)
        #expect(first.output.contains("\(prefix)Access: created"))
        #expect(first.output.contains("\(prefix)ChatHistory: created, time to live enabled on expireAt"))
        let second = try await Self.run(["store", "create-tables", "--table-prefix", prefix], environment: environment)
        #expect(second.status == 0)
        #expect(second.output.contains("\(prefix)ChatHistory: already exists"))
        #expect(try await DynamoDBTables(prefix: prefix).problems(using: MotoServer.client()).isEmpty)
    }

    @Test func createTablesWithoutAReachableDynamoDBFailsWithTheReason() async throws {
        let failed = try await Self.run(
            ["store", "create-tables"],
            environment: [
                "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": "ap-northeast-1",
            ]
        )
        #expect(failed.status != 0)
        #expect(failed.errors.contains("Could not create the tables"))
        #expect(failed.errors.contains("127.0.0.1:9"))
    }
}
