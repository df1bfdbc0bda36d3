import Foundation
import HTTPTypes
import Hummingbird
import KaiwaAgent
import KaiwaCore
import Logging
import NIOCore

/// OpenAI's API, for the clients that already speak it: `GET /v1/models` and
/// `POST /v1/chat/completions`. Stateless: nothing is stored as a conversation, but the
/// tokens count toward the caller's limits.
///
/// `model` is a catalogue model (its fallbacks included), called with the client's own
/// tools, which come back as OpenAI tool calls; or `agent:<name>`, which runs that agent's
/// loop with its server-side tools and returns its answer.
struct OpenAIRoutes<Context: SubjectRequestContext> {
    let chat: ChatService
    let gate: (any ReplyGate)?
    let maxBodyBytes: Int

    static var agentPrefix: String { "agent:" }

    func add(to router: Router<Context>) {
        let modelList = modelListJSON()
        router.get("/v1/models") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: modelList)))
        }
        router.post("/v1/chat/completions") { request, context in
            let body = try await JSONBody.decode(OpenAIChatRequest.self, from: request, limit: maxBodyBytes)
            var modelRequest = try body.modelRequest()
            modelRequest.prefersStreaming = body.isStreaming
            let (events, name) = try stream(for: body.model, modelRequest)
            let pass = try await gate?.admitReply(context.subject) ?? nil
            let writer = OpenAICompletionWriter(model: name, created: Int(chat.clock.now().timeIntervalSince1970))
            let completion = CompletionEvents(events, pass: pass, logger: context.logger)
            if body.isStreaming {
                return try await streamed(completion, writer: writer, includeUsage: body.streamOptions?.includeUsage ?? false)
            }
            return try await collected(completion, writer: writer)
        }
    }

    /// The model's events for `model`, and the name the answer carries until a fallback says otherwise.
    private func stream(for model: String, _ request: ModelRequest) throws -> (AsyncThrowingStream<ModelStreamEvent, any Error>, String) {
        if model.hasPrefix(Self.agentPrefix) {
            guard let profile = chat.agents.profile(named: String(model.dropFirst(Self.agentPrefix.count))) else {
                throw KaiwaError.modelNotFound(model, known: knownModels)
            }
            guard request.tools.isEmpty else {
                throw KaiwaError(
                    .badRequest, "Agent models use their own tools on the server; send `tools` with a catalogue model instead.", parameter: "tools"
                )
            }
            return (chat.complete(agent: profile, model: chat.models.defaultModel(for: profile), request: request), model)
        }
        guard let entry = chat.models[model] else { throw KaiwaError.modelNotFound(model, known: knownModels) }
        return (entry.provider.stream(request), entry.name)
    }

    private var knownModels: [String] {
        chat.models.names + chat.agents.profiles.map { Self.agentPrefix + $0.name }
    }

    /// `{"object": "list", "data": [{"id", "object": "model", "created", "owned_by"}]}`.
    private func modelListJSON() -> String {
        let entries = knownModels.map { name in
            "{\"id\":" + JSONText.quoted(name) + ",\"object\":\"model\",\"created\":0,\"owned_by\":\"kaiwa\"}"
        }
        return "{\"object\":\"list\",\"data\":[" + entries.joined(separator: ",") + "]}"
    }

    /// The whole completion as one `chat.completion`.
    private func collected(_ completion: CompletionEvents, writer: OpenAICompletionWriter) async throws -> Response {
        var writer = writer
        var text = ""
        var calls: [OpenAICompletionWriter.ToolCall] = []
        var callIndex: [String: Int] = [:]
        var stop: StopReason?
        var usage: TokenUsage?
        do {
            while let event = try await completion.next() {
                switch event {
                case .answeredBy(let name): writer.model = name
                case .textDelta(let delta): text += delta
                case .toolUseStart(let id, let name):
                    callIndex[id] = calls.count
                    calls.append(.init(id: id, name: name, arguments: ""))
                case .toolUseInputDelta(let id, let fragment):
                    if let index = callIndex[id] { calls[index].arguments += fragment }
                case .toolUseEnd: break
                case .usage(let total): usage = total
                case .stop(let reason): stop = reason
                }
            }
        } catch {
            await completion.finish(usage)
            throw error
        }
        await completion.finish(usage)
        for index in calls.indices where calls[index].arguments.isEmpty { calls[index].arguments = "{}" }
        let json = writer.completion(text: text, toolCalls: calls, stop: stop, usage: usage)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    /// The completion as `chat.completion.chunk` events. The model's first event is awaited
    /// before the response begins, so that a model that fails before answering is an HTTP
    /// error the SDKs raise, not a stream that ends early.
    private func streamed(_ completion: CompletionEvents, writer: OpenAICompletionWriter, includeUsage: Bool) async throws -> Response {
        var writer = writer
        let first: ModelStreamEvent?
        do {
            first = try await completion.next()
        } catch {
            await completion.finish(nil)
            throw error
        }
        if case .answeredBy(let name)? = first { writer.model = name }
        let opening = writer
        return Response(
            status: .ok,
            headers: ReplyStreamResponse.headers,
            body: ResponseBody { body in
                var writer = opening
                var usage: TokenUsage?
                var stop: StopReason?
                var callIndex: [String: Int] = [:]
                var pending = first
                do {
                    try await body.write(ByteBuffer(string: writer.roleChunk))
                    while true {
                        let next: ModelStreamEvent?
                        if let event = pending {
                            next = event
                            pending = nil
                        } else {
                            do {
                                next = try await completion.next()
                            } catch let error as KaiwaError {
                                try await body.write(ByteBuffer(string: OpenAICompletionWriter.errorEvent(error)))
                                await completion.finish(usage)
                                try await body.finish(nil)
                                return
                            }
                        }
                        guard let event = next else { break }
                        let chunk: String?
                        switch event {
                        case .answeredBy(let name):
                            writer.model = name
                            chunk = nil
                        case .textDelta(let delta): chunk = delta.isEmpty ? nil : writer.textChunk(delta)
                        case .toolUseStart(let id, let name):
                            callIndex[id] = callIndex.count
                            chunk = writer.toolCallStartChunk(index: callIndex[id]!, id: id, name: name)
                        case .toolUseInputDelta(let id, let fragment):
                            chunk = callIndex[id].map { writer.toolCallArgumentsChunk(index: $0, fragment: fragment) }
                        case .toolUseEnd: chunk = nil
                        case .usage(let total):
                            usage = total
                            chunk = nil
                        case .stop(let reason):
                            stop = reason
                            chunk = nil
                        }
                        if let chunk { try await body.write(ByteBuffer(string: chunk)) }
                    }
                    var tail = writer.finishChunk(stop)
                    if includeUsage { tail += writer.usageChunk(usage) }
                    tail += OpenAICompletionWriter.done
                    try await body.write(ByteBuffer(string: tail))
                    await completion.finish(usage)
                    try await body.finish(nil)
                } catch {
                    // The client went away: the model call ends with the stream, the tokens still count.
                    await completion.finish(usage)
                    throw error
                }
            }
        )
    }
}

/// A completion's model events, read by one task at a time: first by the route (to see the
/// model answer before committing to a status), then by the response body. Errors come out
/// as client-facing `KaiwaError`s. Holds the caller's reply pass until `finish`.
final class CompletionEvents: @unchecked Sendable {
    // Unchecked: the iterator is used by the handler, then handed to the body writer that
    // runs after the handler returned; never by two tasks at once.
    private var iterator: AsyncThrowingStream<ModelStreamEvent, any Error>.AsyncIterator
    private let pass: ReplyPass?
    let logger: Logger

    init(_ events: AsyncThrowingStream<ModelStreamEvent, any Error>, pass: ReplyPass?, logger: Logger) {
        self.iterator = events.makeAsyncIterator()
        self.pass = pass
        self.logger = logger
    }

    func next() async throws -> ModelStreamEvent? {
        do {
            return try await iterator.next()
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ChatService.clientFacing(error, logger: logger)
        }
    }

    /// Gives the reply pass back, counting `usage` toward the caller's limits.
    func finish(_ usage: TokenUsage?) async {
        await pass?.finish(usage)
    }
}
