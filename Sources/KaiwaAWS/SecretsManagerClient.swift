import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The one Secrets Manager call Kaiwa needs: `GetSecretValue`, SigV4-signed, on the endpoint
/// the AWS SDKs would use (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, then `AWS_ENDPOINT_URL`).
public struct SecretsManagerClient: Sendable {
    public let endpoint: String
    public let region: String
    let credentials: any AWSCredentialProvider
    let client: HTTPClient

    public init(endpoint: String, region: String, credentials: any AWSCredentialProvider, client: HTTPClient) {
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.client = client
    }

    /// A secret that cannot be fetched; the description says why (never the secret).
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The secret's `SecretString`.
    public func secretString(id: String) async throws -> String {
        guard let keys = try await credentials.credentials() else { throw Failure(description: "no AWS credentials") }
        let body = Array(#"{"SecretId":\#(String(decoding: try JSONEncoder().encode(id), as: UTF8.self))}"#.utf8)
        guard let url = URL(string: endpoint + "/") else { throw Failure(description: "bad endpoint \(endpoint)") }
        let request = AWSJSONRequest.make(
            url: url, target: "secretsmanager.GetSecretValue", jsonVersion: "1.1", body: body, credentials: keys, region: region,
            service: "secretsmanager"
        )
        let response = try await client.execute(request, timeout: .seconds(5))
        let answer = try await response.body.collect(upTo: 1 << 20)
        struct Answer: Decodable {
            var SecretString: String?
            var __type: String?
            var message: String?
            var Message: String?
        }
        let decoded = try? JSONDecoder().decode(Answer.self, from: Data(answer.readableBytesView))
        guard response.status == .ok, let secret = decoded?.SecretString else {
            let type = decoded?.__type ?? "HTTP \(response.status.code)"
            throw Failure(description: "GetSecretValue for \(id) failed: \(type) \(decoded?.message ?? decoded?.Message ?? "")")
        }
        return secret
    }
}
