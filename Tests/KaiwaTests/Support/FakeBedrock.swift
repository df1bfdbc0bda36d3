import Foundation
import HTTPTypes
import Hummingbird
@testable import KaiwaAWS

/// Helpers for a fake Bedrock Runtime: event-stream frames, and checking the SigV4 signature
/// of each request it receives.
enum FakeBedrock {
    static let credentials = AWSCredentials(accessKeyID: "AKIDFAKEBEDROCK", secretAccessKey: "fake-secret-key", sessionToken: "fake-session")

    /// One event-stream message with string headers.
    static func frame(_ headers: [(String, String)], _ payload: String) -> [UInt8] {
        var headerBytes: [UInt8] = []
        for (name, value) in headers {
            headerBytes.append(UInt8(name.utf8.count))
            headerBytes += Array(name.utf8)
            headerBytes.append(7)
            let valueBytes = Array(value.utf8)
            headerBytes += [UInt8(valueBytes.count >> 8), UInt8(valueBytes.count & 0xFF)]
            headerBytes += valueBytes
        }
        let payloadBytes = Array(payload.utf8)
        let total = 12 + headerBytes.count + payloadBytes.count + 4
        func be(_ value: Int) -> [UInt8] { [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        var message = be(total) + be(headerBytes.count)
        message += be(Int(CRC32.checksum(message)))
        message += headerBytes + payloadBytes
        return message + be(Int(CRC32.checksum(message)))
    }

    static func event(_ type: String, _ payload: String) -> [UInt8] {
        frame([(":event-type", type), (":content-type", "application/json"), (":message-type", "event")], payload)
    }

    static func exception(_ type: String, _ message: String) -> [UInt8] {
        frame([(":exception-type", type), (":content-type", "application/json"), (":message-type", "exception")], #"{"message":"\#(message)"}"#)
    }

    static func stream(_ frames: [[UInt8]]) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/vnd.amazon.eventstream"],
            body: .init(byteBuffer: ByteBuffer(bytes: frames.flatMap { $0 }))
        )
    }

    /// Whether the request carries a valid SigV4 signature by `credentials` for `service`.
    static func hasValidSignature(_ request: Request, body: [UInt8], port: Int, service: String = "bedrock") -> Bool {
        guard let authorization = request.headers[.authorization],
            let date = request.headers[HTTPField.Name("X-Amz-Date")!],
            let signedPart = authorization.split(separator: ",").first(where: { $0.contains("SignedHeaders=") }),
            let region = authorization.split(separator: "/").dropFirst(2).first
        else { return false }
        let signed = signedPart.split(separator: "=")[1].split(separator: ";").map(String.init)
        let headers = signed.filter { !["host", "x-amz-date", "x-amz-security-token"].contains($0) }.compactMap { name -> (String, String)? in
            guard let field = HTTPField.Name(name), let value = request.headers[field] else { return nil }
            return (name, value)
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        guard let when = formatter.date(from: date), let url = URL(string: "http://127.0.0.1:\(port)\(request.head.path ?? "/")") else { return false }
        let expected = SigV4Signer(credentials: credentials, region: String(region), service: service)
            .signatureHeaders(method: request.method.rawValue, url: url, headers: headers, body: body, date: when)
        return expected.first { $0.name == "Authorization" }?.value == authorization
            && request.headers[HTTPField.Name("X-Amz-Security-Token")!] == credentials.sessionToken
    }
}
