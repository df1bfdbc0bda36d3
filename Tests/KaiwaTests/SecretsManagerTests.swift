import Foundation
import KaiwaAWS
import KaiwaTools
import HTTPTypes
import Testing

/// The connpass key from AWS Secrets Manager, served by moto_server on loopback.
@Suite(.serialized) struct SecretsManagerTests {
    static func withMoto(_ body: (String) async throws -> Void) async throws {
        try await body(try await MotoServer.shared.url())
    }

    /// Creates a secret with botocore, the reference client.
    static func createSecret(endpoint: String, id: String, value: String) async throws {
        let script = """
            import boto3, sys
            client = boto3.client("secretsmanager", endpoint_url=sys.argv[1], region_name="ap-northeast-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
            client.create_secret(Name=sys.argv[2], SecretString=sys.argv[3])
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, endpoint, id, value]
        let result = try await runToExit(process)
        #expect(result.status == 0, "\(result.errors)")
    }

    typealias TestingKeys = MotoServer.TestingKeys

    @Test func connpassKeyComesFromSecretsManagerWhenNotConfigured() async throws {
        try await Self.withMoto { endpoint in
            try await Self.createSecret(endpoint: endpoint, id: "confee/connpass-api-key", value: #"{"api_key":"key-from-secrets-manager"}"#)
            let secrets = SecretsManagerClient(endpoint: endpoint, region: "ap-northeast-1", credentials: TestingKeys(), client: testHTTPClient)
            #expect(try await secrets.secretString(id: "confee/connpass-api-key").contains("key-from-secrets-manager"))
            await #expect(throws: SecretsManagerClient.Failure.self) { try await secrets.secretString(id: "no/such/secret") }

            let seenKey = Shared<String?>(nil)
            try await withFakeUpstream({ router in
                router.get("/api/v2/events/") { request, _ in
                    seenKey.set(request.headers[.init("X-API-Key")!])
                    return ConnpassToolTests.json(ConnpassToolTests.answer)
                }
            }) { base in
                let tool = ConnpassSearchTool(
                    baseURL: base, keys: ConnpassKeySource(configured: nil, secrets: secrets), client: testHTTPClient
                )
                let output = try await tool.call(.object(["keyword": .string("Swift")]))
                #expect(!output.isError)
                #expect(seenKey.get() == "key-from-secrets-manager")
            }
        }
    }
}
