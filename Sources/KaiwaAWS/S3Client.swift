import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The few S3 calls attachments need: put an object (streamed as it arrives, SigV4 with
/// `UNSIGNED-PAYLOAD` over HTTPS), read its metadata, get it, delete it. Addressed
/// virtual-hosted style on AWS, path style on a configured endpoint (moto_server, MinIO).
public struct S3Client: Sendable {
    public let bucket: String
    public let region: String
    /// A stand-in for S3 (`http://127.0.0.1:5000`); `nil`: AWS.
    public let endpoint: String?
    let credentials: any AWSCredentialProvider
    let client: HTTPClient

    public init(bucket: String, region: String, endpoint: String?, credentials: any AWSCredentialProvider, client: HTTPClient) {
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.credentials = credentials
        self.client = client
    }

    public struct Failure: Error, CustomStringConvertible {
        public var operation: String
        public var status: UInt?
        public var detail: String
        public var description: String { "S3 \(operation) failed: \(status.map { "HTTP \($0) " } ?? "")\(detail)" }
    }

    func url(_ key: String) -> URL {
        let path = SigV4Signer.encode(key, keepingSlash: true)
        if let endpoint { return URL(string: "\(endpoint)/\(bucket)/\(path)")! }
        return URL(string: "https://\(bucket).s3.\(region).amazonaws.com/\(path)")!
    }

    /// Stores `size` bytes under `key`, asking `next` for each piece as the last is sent.
    /// `metadata` becomes `x-amz-meta-*` headers (ASCII values).
    public func putObject(
        key: String, size: Int, contentType: String, metadata: [String: String], next: @escaping @Sendable () async throws -> Data?
    ) async throws {
        var headers: [(name: String, value: String)] = [
            ("Content-Type", contentType), ("Content-Length", String(size)), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ]
        headers += metadata.sorted { $0.key < $1.key }.map { ("x-amz-meta-\($0.key)", $0.value) }
        let body = AsyncThrowingStream<ByteBuffer, any Error>(unfolding: { try await next().map { ByteBuffer(bytes: $0) } })
        _ = try await send("PutObject", method: .PUT, url: url(key), headers: headers, payloadHash: "UNSIGNED-PAYLOAD", body: .stream(body, length: .known(Int64(size))))
    }

    /// The object's size, content type and `x-amz-meta-*` values; `nil` when there is no such object.
    public func headObject(key: String) async throws -> (size: Int?, contentType: String?, metadata: [String: String])? {
        guard let response = try await send("HeadObject", method: .HEAD, url: url(key), missingIsNil: true) else { return nil }
        var metadata: [String: String] = [:]
        for header in response.headers where header.name.lowercased().hasPrefix("x-amz-meta-") {
            metadata[String(header.name.lowercased().dropFirst("x-amz-meta-".count))] = header.value
        }
        return (response.headers.first(name: "content-length").flatMap { Int($0) }, response.headers.first(name: "content-type"), metadata)
    }

    /// The object's bytes, at most `limit`; `nil` when there is no such object.
    public func getObject(key: String, limit: Int) async throws -> Data? {
        guard let response = try await send("GetObject", method: .GET, url: url(key), missingIsNil: true) else { return nil }
        let buffer = try await response.body.collect(upTo: limit)
        return Data(buffer.readableBytesView)
    }

    public func deleteObject(key: String) async throws {
        _ = try await send("DeleteObject", method: .DELETE, url: url(key))
    }

    /// Makes the bucket (for tests and first set-up); one that exists already is fine.
    public func createBucket() async throws {
        let location = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>"
        let bytes = Array(location.utf8)
        let base = endpoint.map { URL(string: "\($0)/\(bucket)")! } ?? URL(string: "https://\(bucket).s3.\(region).amazonaws.com/")!
        do {
            _ = try await send(
                "CreateBucket", method: .PUT, url: base, headers: [("Content-Type", "application/xml")],
                payloadHash: SigV4Signer.hex(sha256: bytes), body: .bytes(ByteBuffer(bytes: bytes))
            )
        } catch let failure as Failure where failure.status == 409 {
            return
        }
    }

    private func send(
        _ operation: String, method: HTTPMethod, url: URL, headers: [(name: String, value: String)] = [],
        payloadHash: String = SigV4Signer.emptyPayloadHash, body: HTTPClientRequest.Body? = nil, missingIsNil: Bool = false
    ) async throws -> HTTPClientResponse? {
        guard let keys = try await credentials.credentials() else { throw Failure(operation: operation, status: nil, detail: "no AWS credentials") }
        var signed = headers
        if !signed.contains(where: { $0.name.lowercased() == "x-amz-content-sha256" }) { signed.append(("x-amz-content-sha256", payloadHash)) }
        signed += SigV4Signer(credentials: keys, region: region, service: "s3")
            .signatureHeaders(method: method.rawValue, url: url, headers: signed, payloadHash: payloadHash, date: Date())
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        for (name, value) in signed { request.headers.add(name: name, value: value) }
        if let body { request.body = body }
        let response = try await client.execute(request, timeout: .seconds(30))
        switch response.status.code {
        case 200..<300:
            return response
        case 404 where missingIsNil:
            return nil
        default:
            let text = (try? await response.body.collect(upTo: 16 * 1024)).map { String(buffer: $0) } ?? ""
            throw Failure(operation: operation, status: response.status.code, detail: String(text.prefix(300)))
        }
    }
}
