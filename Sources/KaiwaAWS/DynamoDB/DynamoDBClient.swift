import AsyncHTTPClient
import Foundation
import Tracing
import NIOCore
import NIOHTTP1

/// DynamoDB over its JSON 1.0 protocol: one signed `POST /` per operation, named by the
/// `X-Amz-Target: DynamoDB_20120810.<Operation>` header. Throttling, server errors and
/// transaction conflicts are retried with exponential backoff and full jitter; every other
/// failure is a `DynamoDBError` naming the operation, the service's error type and message.
public struct DynamoDBClient: Sendable {
    public struct RetryPolicy: Sendable, Hashable {
        /// Tries per request, the first included.
        public var maxAttempts: Int
        public var baseDelay: Duration
        public var maxDelay: Duration

        public init(maxAttempts: Int = 8, baseDelay: Duration = .milliseconds(25), maxDelay: Duration = .seconds(2)) {
            self.maxAttempts = max(1, maxAttempts)
            self.baseDelay = baseDelay
            self.maxDelay = maxDelay
        }

        /// Full jitter: a random delay up to `baseDelay · 2^attempt`, capped at `maxDelay`.
        public func delay(afterAttempt attempt: Int) -> Duration {
            let ceiling = min(maxDelay, baseDelay * (1 << min(attempt, 16)))
            let nanoseconds = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
            return .nanoseconds(Int64.random(in: 0...max(0, nanoseconds)))
        }
    }

    public let endpoint: String
    public let region: String
    public var retry: RetryPolicy
    public var requestTimeout: Duration
    let credentials: any AWSCredentialProvider
    let client: HTTPClient

    public init(
        endpoint: String, region: String, credentials: any AWSCredentialProvider, client: HTTPClient,
        retry: RetryPolicy = .init(), requestTimeout: Duration = .seconds(10)
    ) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.region = region
        self.credentials = credentials
        self.client = client
        self.retry = retry
        self.requestTimeout = requestTimeout
    }

    /// Sends one operation, retrying what can be retried, and decodes its answer.
    public func send<Output: Decodable>(_ operation: String, _ input: some Encodable, as _: Output.Type = Output.self) async throws -> Output {
        let body = try JSONEncoder().encode(input)
        return try await withSpan("DynamoDB.\(operation)", ofKind: .client) { span in
            span.attributes["db.system.name"] = "aws.dynamodb"
            span.attributes["db.operation.name"] = operation
            span.attributes["rpc.system"] = "aws-api"
            return try await sendRetrying(operation, body: body)
        }
    }

    private func sendRetrying<Output: Decodable>(_ operation: String, body: Data) async throws -> Output {
        var attempt = 0
        while true {
            do {
                let answer = try await sendOnce(operation, body: Array(body))
                do {
                    return try JSONDecoder().decode(Output.self, from: Data(answer))
                } catch {
                    throw DynamoDBError(operation: operation, type: "UnreadableResponse", message: "\(error)").with(kind: .unavailable)
                }
            } catch let error as DynamoDBError
                where error.isRetryable && attempt + 1 < (error.type == Self.unreachable ? min(retry.maxAttempts, 3) : retry.maxAttempts)
            {
                try await Task.sleep(for: retry.delay(afterAttempt: attempt))
                attempt += 1
            } catch let error as DynamoDBError where error.kind == .throttled || error.isRetryable {
                var exhausted = error
                if error.kind == .throttled || error.type == "TransactionCanceledException" {
                    exhausted.kind = .throttled
                }
                exhausted.message += " (after \(attempt + 1) attempts)"
                throw exhausted
            }
        }
    }

    /// The error type of a request that never reached DynamoDB. Such requests are tried three
    /// times at most: each try already waited for the HTTP client's connect timeout.
    static let unreachable = "Unreachable"

    private func sendOnce(_ operation: String, body: [UInt8]) async throws -> [UInt8] {
        guard let url = URL(string: endpoint + "/") else {
            throw DynamoDBError(operation: operation, type: "BadEndpoint", message: "\(endpoint) is not a URL").with(kind: .unavailable)
        }
        let keys: AWSCredentials
        do {
            guard let found = try await credentials.credentials() else { throw AWSCredentialError(description: "no AWS credentials") }
            keys = found
        } catch {
            throw DynamoDBError(operation: operation, type: "NoCredentials", message: "\(error)").with(kind: .accessDenied)
        }
        let request = AWSJSONRequest.make(
            url: url, target: "DynamoDB_20120810.\(operation)", jsonVersion: "1.0", body: body, credentials: keys, region: region,
            service: "dynamodb"
        )

        let status: HTTPResponseStatus
        let answer: ByteBuffer
        do {
            let timeout = TimeAmount.milliseconds(requestTimeout.components.seconds * 1000 + requestTimeout.components.attoseconds / 1_000_000_000_000_000)
            let response = try await client.execute(request, timeout: timeout)
            status = response.status
            answer = try await response.body.collect(upTo: 64 << 20)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw DynamoDBError(operation: operation, type: Self.unreachable, message: "\(endpoint): \(error)").with(kind: .unavailable)
        }
        let bytes = Array(answer.readableBytesView)
        guard status == .ok else { throw Self.failure(operation: operation, status: status, body: bytes) }
        return bytes
    }

    /// Reads an error answer: `{"__type": "com.amazonaws.dynamodb.v20120810#Name", "message": …}`.
    static func failure(operation: String, status: HTTPResponseStatus, body: [UInt8]) -> DynamoDBError {
        struct Reason: Decodable { var Code: String? }
        struct Answer: Decodable {
            var __type: String?
            var message: String?
            var Message: String?
            var CancellationReasons: [Reason]?
        }
        let decoded = try? JSONDecoder().decode(Answer.self, from: Data(body))
        let type = decoded?.__type.map { String($0.split(separator: "#").last ?? Substring($0)) }
        var error = DynamoDBError(
            operation: operation,
            type: type ?? "HTTP \(status.code)",
            message: decoded?.message ?? decoded?.Message ?? String(decoding: body.prefix(300), as: UTF8.self),
            cancellationReasons: decoded?.CancellationReasons?.map { $0.Code ?? "None" } ?? []
        )
        if type == nil && status.code >= 500 { error.kind = .unavailable }
        if error.kind == .other && status.code >= 500 { error.kind = .unavailable }
        return error
    }
}

extension DynamoDBError {
    func with(kind: Kind) -> DynamoDBError {
        var copy = self
        copy.kind = kind
        return copy
    }
}
