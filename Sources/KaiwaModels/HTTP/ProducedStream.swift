import KaiwaCore

extension AsyncThrowingStream where Element == ModelStreamEvent, Failure == any Error {
    /// A stream fed by `produce`, which runs in a task of its own that is cancelled as soon
    /// as the consumer stops listening (a stop, a departed client): how HTTP model providers
    /// turn one upstream call into model events.
    static func produced(
        by produce: @escaping @Sendable (AsyncThrowingStream<ModelStreamEvent, any Error>.Continuation) async throws -> Void
    ) -> Self {
        let (stream, continuation) = Self.makeStream()
        let producer = Task {
            do {
                try await produce(continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in producer.cancel() }
        return stream
    }
}
