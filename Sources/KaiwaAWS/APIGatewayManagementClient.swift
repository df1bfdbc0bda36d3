import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The API Gateway Management API call a WebSocket API's backend needs: `PostToConnection`,
/// which sends one frame to a connected client (seed 002's `apigw.post_to_connection`),
/// SigV4-signed for `execute-api`.
public struct APIGatewayManagementClient: Sendable {
    /// `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` (the event's domain name
    /// and stage), or a stand-in for tests.
    public let endpoint: String
    public let region: String
    let credentials: any AWSCredentialProvider
    let client: HTTPClient

    public init(endpoint: String, region: String, credentials: any AWSCredentialProvider, client: HTTPClient) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.region = region
        self.credentials = credentials
        self.client = client
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The client has disconnected (`GoneException`, 410): its connection record can go.
        case gone
        /// Any other refusal or transport failure.
        case failed(String)

        public var description: String {
            switch self {
            case .gone: "the connection is gone"
            case .failed(let reason): "PostToConnection failed: \(reason)"
            }
        }
    }

    /// Sends `data` as one frame to the connection.
    public func postToConnection(_ connectionID: String, data: [UInt8]) async throws {
        guard let keys = try await credentials.credentials() else { throw Failure.failed("no AWS credentials") }
        // Connection ids are base64-like (`L0SM9cOFvHcCIhw=`): `=` and `/` must be escaped in the path.
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.~")
        guard let escaped = connectionID.addingPercentEncoding(withAllowedCharacters: allowed),
            let url = URL(string: "\(endpoint)/@connections/\(escaped)")
        else { throw Failure.failed("bad endpoint \(endpoint)") }
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        headers += SigV4Signer(credentials: keys, region: region, service: "execute-api")
            .signatureHeaders(method: "POST", url: url, headers: headers, body: data, date: Date())
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: data))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(5))
        } catch {
            throw Failure.failed("\(error)")
        }
        let body = try? await response.body.collect(upTo: 64 * 1024)
        switch response.status.code {
        case 200..<300: return
        case 410: throw Failure.gone
        default:
            let text = body.map { String(buffer: $0) } ?? ""
            throw Failure.failed("HTTP \(response.status.code) \(text.prefix(200))")
        }
    }
}
