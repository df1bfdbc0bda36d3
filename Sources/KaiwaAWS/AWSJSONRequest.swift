import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A SigV4-signed `POST /` of an AWS JSON protocol (DynamoDB's 1.0, Secrets Manager's 1.1):
/// the operation named in `X-Amz-Target`, the input as the JSON body.
enum AWSJSONRequest {
    static func make(
        url: URL, target: String, jsonVersion: String, body: [UInt8], credentials: AWSCredentials, region: String, service: String
    ) -> HTTPClientRequest {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/x-amz-json-\(jsonVersion)"), ("X-Amz-Target", target)]
        headers += SigV4Signer(credentials: credentials, region: region, service: service)
            .signatureHeaders(method: "POST", url: url, headers: headers, body: body, date: Date())
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }
}
