import AsyncHTTPClient
import Foundation
import KaiwaCore
import Logging
import NIOCore
import NIOHTTP1
import OpenAPIRuntime

/// Any server that speaks OpenAI's `/chat/completions`: OpenAI, Ollama
/// (`http://localhost:11434/v1`), vLLM, llama.cpp's server, LM Studio.
public struct OpenAIProvider: ModelProvider {
    /// The model name the server knows, e.g. `gpt-4o-mini` or `llama3.2`.
    public let model: String
    /// The API root, e.g. `https://api.openai.com/v1`.
    public let baseURL: String
    private let apiKey: String?
    private let call: UpstreamCall

    public var modelID: String { "openai:\(model)" }

    public init(model: String, baseURL: String, apiKey: String?, client: HTTPClient, settings: UpstreamSettings = .init(), logger: Logger) {
        self.model = model
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.call = UpstreamCall(client: client, settings: settings, logger: logger)
    }

    public func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelStreamEvent, any Error> {
        .produced { continuation in try await run(request, into: continuation) }
    }

    private func run(_ request: ModelRequest, into continuation: AsyncThrowingStream<ModelStreamEvent, any Error>.Continuation) async throws {
        let body = Data(JSONText.encode(OpenAIWire.body(for: request, model: model, stream: request.prefersStreaming)).utf8)
        let url = baseURL + "/chat/completions"
        let apiKey = self.apiKey
        try await call.perform(
            makeRequest: {
                var http = HTTPClientRequest(url: url)
                http.method = .POST
                http.headers.add(name: "Content-Type", value: "application/json")
                http.headers.add(name: "Accept", value: "text/event-stream, application/json")
                if let apiKey { http.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
                http.body = .bytes(ByteBuffer(bytes: body))
                return http
            },
            classify: Self.classify,
            consume: { response, progress in
                var translator = OpenAIStreamTranslator()
                let body = ProgressReportingBody(body: response.body, progress: progress)
                if response.isJSON {
                    // The server ignored `stream: true` and answered with one completion.
                    var whole: [UInt8] = []
                    for try await piece in body {
                        whole += piece
                        guard whole.count <= 16 * 1024 * 1024 else { throw ModelError(.unavailable, "the answer is too large") }
                    }
                    for event in translator.translate(try Self.decode(String(decoding: whole, as: UTF8.self))) {
                        continuation.yield(event)
                    }
                } else {
                    var sawCompletion = false
                    var finished = false
                    for try await event in body.asDecodedServerSentEvents() {
                        guard let data = event.data else { continue }
                        if data.trimmingCharacters(in: .whitespaces) == "[DONE]" {
                            finished = true
                            break
                        }
                        for modelEvent in translator.translate(try Self.decode(data)) { continuation.yield(modelEvent) }
                        sawCompletion = true
                    }
                    guard sawCompletion, finished || translator.stop != nil else {
                        throw ModelError(.unavailable, "the stream ended before the answer was complete")
                    }
                }
                for event in translator.closeToolCalls() { continuation.yield(event) }
                if let usage = translator.usage { continuation.yield(.usage(usage)) }
                continuation.yield(.stop(translator.stop ?? .endTurn))
            }
        )
    }

    static func decode(_ json: String) throws -> OpenAIWire.Completion {
        do {
            return try JSONDecoder().decode(OpenAIWire.Completion.self, from: Data(json.utf8))
        } catch {
            throw ModelError(.unavailable, "the server sent a chunk that is not a completion")
        }
    }

    /// An error answer as a `ModelError`.
    static func classify(_ status: HTTPResponseStatus, _ headers: HTTPHeaders, _ body: String) -> ModelError {
        let detail = "HTTP \(status.code): \(body.prefix(300))"
        switch status.code {
        case 429: return ModelError(.throttled, detail)
        case 401, 403: return ModelError(.authentication, "HTTP \(status.code)")
        case 408, 504: return ModelError(.timeout, detail)
        case 400, 413, 422:
            let lowered = body.lowercased()
            if lowered.contains("context_length") || lowered.contains("context length") || lowered.contains("too many tokens") {
                return ModelError(.contextTooLong, detail)
            }
            return ModelError(.badRequest, detail)
        case 500...: return ModelError(.unavailable, detail)
        default: return ModelError(.badRequest, detail)
        }
    }
}
