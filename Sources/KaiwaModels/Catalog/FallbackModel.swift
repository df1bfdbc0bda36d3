import KaiwaCore
import Logging

/// A catalogue model with its fallbacks: the first model is asked, and when its call fails
/// before the first piece of the answer (throttled, a 5xx, a refused connection, a timeout),
/// the next one is, in order. Once a model has begun to answer it is never switched: the
/// client would see two answers stitched together.
///
/// The stream begins with `.answeredBy(name)` naming the model that answers.
public struct FallbackModel: ModelProvider {
    public struct Candidate: Sendable {
        /// The catalogue name reported when this model answers.
        public var name: String
        public var provider: any ModelProvider

        public init(name: String, provider: any ModelProvider) {
            self.name = name
            self.provider = provider
        }
    }

    /// The model itself first, then its fallbacks.
    public let candidates: [Candidate]
    let logger: Logger

    public var modelID: String { candidates[0].provider.modelID }

    public init(_ candidates: [Candidate], logger: Logger) {
        precondition(!candidates.isEmpty, "a model needs at least one candidate")
        self.candidates = candidates
        self.logger = logger
    }

    public func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelStreamEvent, any Error> {
        .produced { continuation in
            for (index, candidate) in candidates.enumerated() {
                var answering = false
                do {
                    for try await event in candidate.provider.stream(request) {
                        if !answering {
                            answering = true
                            continuation.yield(.answeredBy(candidate.name))
                        }
                        continuation.yield(event)
                    }
                    if !answering { continuation.yield(.answeredBy(candidate.name)) }
                    return
                } catch {
                    let isLast = index == candidates.count - 1
                    guard !answering, !isLast, Self.isWorthAFallback(error) else { throw error }
                    logger.warning(
                        "Model failed before answering; trying its fallback",
                        metadata: ["model": "\(candidate.name)", "fallback": "\(candidates[index + 1].name)", "error": "\(error)"]
                    )
                }
            }
        }
    }

    /// Failures another model may not share. A request the model refused as malformed, or
    /// a conversation too long for it, would most likely fail the same way elsewhere.
    static func isWorthAFallback(_ error: any Error) -> Bool {
        guard let error = error as? ModelError else { return false }
        switch error.kind {
        case .throttled, .unavailable, .timeout, .authentication: return true
        case .badRequest, .contextTooLong: return false
        }
    }
}
