import AsyncHTTPClient
import Foundation
import KaiwaAWS
import KaiwaDynamoDBStore
import KaiwaModels
import KaiwaStore

/// Makes the store the configuration names, and sets up DynamoDB for `kaiwa store create-tables`.
public enum StoreFactory {
    /// The store `configuration.store` names. A DynamoDB store is checked before it is used:
    /// missing tables or indexes stop start-up with a message saying what is missing.
    static func makeStore(
        _ configuration: KaiwaConfiguration, environment: [String: String], credentials: any AWSCredentialProvider, client: HTTPClient
    ) async throws -> any ChatStore {
        switch configuration.store {
        case .sqlite:
            return try SQLiteChatStore(path: configuration.sqlitePath)
        case .memory:
            return InMemoryChatStore()
        case .dynamodb:
            var store = DynamoDBChatStore(
                client: dynamoDBClient(environment: environment, credentials: credentials, client: client),
                tables: DynamoDBTables(prefix: configuration.dynamoDBTablePrefix),
                retention: TimeInterval(configuration.sessionRetentionSeconds)
            )
            if let bucket = configuration.attachmentBucket {
                let endpoint = environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
                store.attachmentObjects = AttachmentObjects(
                    s3: S3Client(
                        bucket: bucket, region: awsRegion(environment), endpoint: endpoint.flatMap { $0.isEmpty ? nil : $0 },
                        credentials: credentials, client: client
                    ),
                    prefix: configuration.attachmentPrefix
                )
            }
            let problems = try await store.tables.problems(using: store.client)
            guard problems.isEmpty else {
                throw DynamoDBStoreError(
                    "DynamoDB at \(store.client.endpoint) is not ready: \(problems.joined(separator: "; ")). "
                        + "Create the tables with `kaiwa store create-tables` (same configuration), or check KAIWA_DYNAMODB_TABLE_PREFIX and AWS_REGION."
                )
            }
            return store
        }
    }

    /// The DynamoDB client for this environment: `AWS_REGION` (or `AWS_DEFAULT_REGION`), and the
    /// endpoint from `AWS_ENDPOINT_URL_DYNAMODB`, then `AWS_ENDPOINT_URL`, as the AWS SDKs do.
    static func dynamoDBClient(environment: [String: String], credentials: any AWSCredentialProvider, client: HTTPClient) -> DynamoDBClient {
        let region = awsRegion(environment)
        return DynamoDBClient(
            endpoint: AWSEndpoint.url(service: "dynamodb", hostPrefix: "dynamodb", region: region, environment: environment),
            region: region, credentials: credentials, client: client
        )
    }

    static func awsRegion(_ environment: [String: String]) -> String {
        environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "ap-northeast-1"
    }

    /// Creates Kaiwa's DynamoDB tables that are missing and enables their time to live; returns
    /// one line per table saying what was done.
    public static func createDynamoDBTables(
        _ configuration: KaiwaConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> [String] {
        let client = HTTPClientService.makeClient(connectTimeout: configuration.upstreamSettings.connectTimeout)
        do {
            let dynamoDB = dynamoDBClient(
                environment: environment, credentials: AWSCredentialChain.standard(environment: environment, client: client), client: client
            )
            let report = try await DynamoDBTables(prefix: configuration.dynamoDBTablePrefix).create(using: dynamoDB)
            try await client.shutdown()
            return report
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

extension StoreFactory {
    /// Runs `work` with the store the configuration names (for commands such as `kaiwa keys`),
    /// and closes what it opened afterwards.
    public static func withStore<T: Sendable>(
        _ configuration: KaiwaConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment,
        _ work: (any ChatStore) async throws -> T
    ) async throws -> T {
        let client = HTTPClientService.makeClient(connectTimeout: configuration.upstreamSettings.connectTimeout)
        do {
            let credentials = AWSCredentialChain.standard(environment: environment, client: client)
            let store = try await makeStore(configuration, environment: environment, credentials: credentials, client: client)
            let result = try await work(store)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
