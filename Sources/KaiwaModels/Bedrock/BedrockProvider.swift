import AsyncHTTPClient
import Foundation
import KaiwaAWS
import KaiwaCore
import Logging
import NIOCore
import NIOHTTP1

/// Amazon Bedrock's Converse API (ConverseStream by default), signed with SigV4 from the
/// standard credential chain, or with a Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`).
public struct BedrockProvider: ModelProvider {
    /// How requests are authorized.
    public enum Authorization: Sendable {
        case sigV4(any AWSCredentialProvider)
        case bearer(String)
    }

    /// Seed 001's default model.
    public static let defaultModelID = "apac.amazon.nova-micro-v1:0"

    public let model: String
    public let region: String
    /// The Bedrock Runtime endpoint, e.g. `https://bedrock-runtime.ap-northeast-1.amazonaws.com`.
    public let endpoint: String
    /// `true` for ConverseStream, `false` for Converse (one answer, then replayed as events).
    public let streaming: Bool
    private let authorization: Authorization
    private let call: UpstreamCall

    public var modelID: String { "bedrock:\(model)" }

    public init(
        model: String, region: String, endpoint: String, authorization: Authorization, streaming: Bool = true,
        client: HTTPClient, settings: UpstreamSettings = .init(), logger: Logger
    ) {
        self.model = model
        self.region = region
        self.endpoint = endpoint
        self.authorization = authorization
        self.streaming = streaming
        self.call = UpstreamCall(client: client, settings: settings, logger: logger)
    }

    public func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelStreamEvent, any Error> {
        .produced { continuation in try await run(request, into: continuation) }
    }

    /// The request URL: the model id is percent-encoded in the path (`:` → `%3A`).
    var url: URL {
        URL(string: "\(endpoint)/model/\(SigV4Signer.encode(model))/\(streaming ? "converse-stream" : "converse")")!
    }

    private func run(_ request: ModelRequest, into continuation: AsyncThrowingStream<ModelStreamEvent, any Error>.Continuation) async throws {
        let body = Array(JSONText.encode(BedrockWire.body(for: request)).utf8)
        let (url, region, authorization, streaming) = (self.url, self.region, self.authorization, self.streaming)
        try await call.perform(
            makeRequest: {
                var headers: [(name: String, value: String)] = [
                    ("Content-Type", "application/json"),
                    ("Accept", streaming ? "application/vnd.amazon.eventstream" : "application/json"),
                ]
                switch authorization {
                case .bearer(let token):
                    headers.append(("Authorization", "Bearer \(token)"))
                case .sigV4(let provider):
                    guard let credentials = try await provider.credentials() else {
                        throw ModelError(.authentication, "no AWS credentials")
                    }
                    let signer = SigV4Signer(credentials: credentials, region: region, service: "bedrock")
                    headers += signer.signatureHeaders(method: "POST", url: url, headers: headers, body: body, date: Date())
                }
                var http = HTTPClientRequest(url: url.absoluteString)
                http.method = .POST
                for (name, value) in headers { http.headers.add(name: name, value: value) }
                http.body = .bytes(ByteBuffer(bytes: body))
                return http
            },
            classify: Self.classify,
            consume: { response, progress in
                let body = ProgressReportingBody(body: response.body, progress: progress)
                if streaming && !response.isJSON {
                    try await Self.readStream(body, into: continuation)
                } else {
                    try await Self.readAnswer(body, into: continuation)
                }
            }
        )
    }

    private static func readStream(_ body: ProgressReportingBody, into continuation: AsyncThrowingStream<ModelStreamEvent, any Error>.Continuation) async throws {
        var decoder = EventStreamDecoder()
        var translator = BedrockStreamTranslator()
        do {
            for try await piece in body {
                decoder.append(piece)
                while let message = try decoder.next() {
                    let payload = (try? JSONDecoder().decode(BedrockWire.StreamPayload.self, from: Data(message.payload)))
                    if message.messageType == "exception" || message.messageType == "error" {
                        let detail = payload?.message ?? payload?.Message ?? "no detail"
                        throw classify(exception: message.exceptionType ?? message.headers[":error-code"]?.string ?? "", detail: detail)
                    }
                    guard let eventType = message.eventType, let payload else {
                        throw ModelError(.unavailable, "Bedrock sent an event that cannot be read")
                    }
                    for event in translator.translate(eventType: eventType, payload: payload) { continuation.yield(event) }
                }
            }
            try decoder.finish()
        } catch let error as EventStreamError {
            throw ModelError(.unavailable, "Bedrock's stream is corrupt: \(error.detail)")
        }
        guard translator.stopped else { throw ModelError(.unavailable, "Bedrock's stream ended before the answer was complete") }
    }

    private static func readAnswer(_ body: ProgressReportingBody, into continuation: AsyncThrowingStream<ModelStreamEvent, any Error>.Continuation) async throws {
        var whole: [UInt8] = []
        for try await piece in body { whole += piece }
        guard let answer = try? JSONDecoder().decode(BedrockWire.ConverseAnswer.self, from: Data(whole)) else {
            throw ModelError(.unavailable, "Bedrock's answer cannot be read")
        }
        for block in answer.output.message.content {
            if let text = block.text { continuation.yield(.textDelta(text)) }
            if let toolUse = block.toolUse {
                continuation.yield(.toolUseStart(id: toolUse.toolUseId, name: toolUse.name))
                continuation.yield(.toolUseInputDelta(id: toolUse.toolUseId, fragment: JSONText.encode(toolUse.input)))
                continuation.yield(.toolUseEnd(id: toolUse.toolUseId))
            }
        }
        if let usage = answer.usage { continuation.yield(.usage(TokenUsage(inputTokens: usage.inputTokens, outputTokens: usage.outputTokens))) }
        continuation.yield(.stop(BedrockWire.stopReason(answer.stopReason ?? "end_turn")))
    }

    static func classify(_ status: HTTPResponseStatus, _ headers: HTTPHeaders, _ body: String) -> ModelError {
        let type = headers.first(name: "x-amzn-ErrorType")?.split(separator: ":").first.map(String.init) ?? ""
        let message = (try? JSONDecoder().decode(BedrockWire.StreamPayload.self, from: Data(body.utf8))).flatMap { $0.message ?? $0.Message }
        let detail = "HTTP \(status.code) \(type): \(message ?? String(body.prefix(200)))"
        if !type.isEmpty { return classify(exception: type, detail: detail, status: Int(status.code)) }
        switch status.code {
        case 429: return ModelError(.throttled, detail)
        case 401, 403: return ModelError(.authentication, detail)
        case 408: return ModelError(.timeout, detail)
        case 400...499: return ModelError(.badRequest, detail)
        default: return ModelError(.unavailable, detail)
        }
    }

    static func classify(exception type: String, detail: String, status: Int = 0) -> ModelError {
        let lowered = type.lowercased()
        if lowered.contains("throttling") || lowered.contains("toomanyrequests") || lowered.contains("servicequota") {
            return ModelError(.throttled, detail)
        }
        if lowered.contains("timeout") { return ModelError(.timeout, detail) }
        if lowered.contains("accessdenied") || lowered.contains("unrecognizedclient") || lowered.contains("signature")
            || lowered.contains("expiredtoken") || status == 403
        {
            return ModelError(.authentication, detail)
        }
        if lowered.contains("validation") {
            let text = detail.lowercased()
            if text.contains("too long") || text.contains("context") || text.contains("too many tokens") {
                return ModelError(.contextTooLong, detail)
            }
            return ModelError(.badRequest, detail)
        }
        return ModelError(.unavailable, detail)
    }
}
