import KaiwaCore

extension ChatService {
    /// Runs `profile`'s agent loop, with its server-side tools, on a conversation the client
    /// sends whole (OpenAI's `/v1/chat/completions` with `model: "agent:<name>"`). Nothing is
    /// stored. The stream carries what the client sees of the reply: the text, the usage so
    /// far (each `.usage` is the running total) and how it stopped; the agent's own tool
    /// calls stay on the server.
    ///
    /// The client's system text follows the agent's system prompt.
    public func complete(
        agent profile: AgentProfile, model: CatalogModel, request: ModelRequest
    ) -> AsyncThrowingStream<ModelStreamEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<ModelStreamEvent, any Error>.makeStream()
        let loop = AgentLoop(
            model: model.provider, tools: tools(for: profile), maxCycles: settings.maxCycles, toolTimeout: settings.toolTimeout, logger: logger
        )
        var request = request
        request.system = [systemPrompt(of: profile), request.system].compactMap { $0 }.joined(separator: "\n\n")
        request.tools = []
        let producer = Task { [activity] in
            activity.replyStarted()
            defer { activity.replyEnded() }
            var transcript = AgentTranscript()
            do {
                try await loop.run(request, into: &transcript) { event in
                    switch event {
                    case .delta(let text): continuation.yield(.textDelta(text))
                    case .usage(let total): continuation.yield(.usage(total))
                    case .session, .toolCall, .toolResult, .done, .error: break
                    }
                }
                continuation.yield(.stop(.endTurn))
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in producer.cancel() }
        return stream
    }
}
