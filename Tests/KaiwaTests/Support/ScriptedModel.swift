import KaiwaCore
import Synchronization

/// A model that replays a script, records what it was asked, and can run a check when it is
/// called (for example, that the user's message is already stored).
struct ScriptedModel: ModelProvider {
    enum Step: Sendable {
        case event(ModelStreamEvent)
        case fail(any Error)
    }

    var modelID: String { "scripted" }
    let steps: [Step]
    let requests = Requests()
    var onCall: (@Sendable (ModelRequest) async -> Void)?

    init(_ steps: [Step], onCall: (@Sendable (ModelRequest) async -> Void)? = nil) {
        self.steps = steps
        self.onCall = onCall
    }

    static func replying(_ chunks: String...) -> ScriptedModel {
        ScriptedModel(chunks.map { .event(.textDelta($0)) } + [.event(.usage(.init(inputTokens: 12, outputTokens: 7))), .event(.stop(.endTurn))])
    }

    func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelStreamEvent, any Error> {
        requests.record(request)
        let (stream, continuation) = AsyncThrowingStream<ModelStreamEvent, any Error>.makeStream()
        let steps = self.steps
        let onCall = self.onCall
        let producer = Task {
            await onCall?(request)
            for step in steps {
                switch step {
                case .event(let event): continuation.yield(event)
                case .fail(let error):
                    continuation.finish(throwing: error)
                    return
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in producer.cancel() }
        return stream
    }

    final class Requests: Sendable {
        private let all = Mutex<[ModelRequest]>([])
        func record(_ request: ModelRequest) { all.withLock { $0.append(request) } }
        var recorded: [ModelRequest] { all.withLock { $0 } }
        /// The requests of replies, without those for a new conversation's title.
        var turns: [ModelRequest] { recorded.filter { $0.system?.hasPrefix("Write a title for the conversation") != true } }
    }
}

struct UpstreamBroke: Error {}
