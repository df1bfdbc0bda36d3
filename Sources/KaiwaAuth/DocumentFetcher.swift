import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Fetches a small JSON document over HTTP: the seam between the OIDC key set and the network.
public protocol DocumentFetcher: Sendable {
    func fetch(_ url: URL) async throws -> Data
}

/// Fetches documents with AsyncHTTPClient: 5 seconds, 1 MiB at most, status 200 only.
public struct HTTPDocumentFetcher: DocumentFetcher {
    let client: HTTPClient
    let timeout: TimeAmount

    public init(client: HTTPClient, timeout: TimeAmount = .seconds(5)) {
        self.client = client
        self.timeout = timeout
    }

    public func fetch(_ url: URL) async throws -> Data {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await client.execute(request, timeout: timeout)
        guard response.status == .ok else { throw OIDCError("\(url.absoluteString) answered \(response.status.code).") }
        let body = try await response.body.collect(upTo: 1 << 20)
        return Data(body.readableBytesView)
    }
}

/// Why the OIDC provider's documents could not be used. Its message names URLs, never tokens.
public struct OIDCError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
