import KaiwaCore
import Synchronization

/// A model that writes `chunks` pieces of text, one every `interval`, and records whether
/// its stream was cancelled before the end.
struct SlowModel: ModelProvider {
    var modelID: String { "slow" }
    let chunks: Int
    let interval: Duration
    let record = Record()

    init(chunks: Int = 20, interval: Duration = .milliseconds(20)) {
        self.chunks = chunks
        self.interval = interval
    }

    final class Record: Sendable {
        private let state = Mutex((calls: 0, cancelled: 0, finished: 0))
        var calls: Int { state.withLock { $0.calls } }
        var cancelled: Int { state.withLock { $0.cancelled } }
        var finished: Int { state.withLock { $0.finished } }
        func called() { state.withLock { $0.calls += 1 } }
        func wasCancelled() { state.withLock { $0.cancelled += 1 } }
        func didFinish() { state.withLock { $0.finished += 1 } }
    }

    /// The text the model writes in full.
    var fullText: String { (1...chunks).map { "c\($0) " }.joined() }

    func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelStreamEvent, any Error> {
        record.called()
        let (stream, continuation) = AsyncThrowingStream<ModelStreamEvent, any Error>.makeStream()
        let (chunks, interval, record) = (self.chunks, self.interval, self.record)
        let producer = Task {
            for index in 1...chunks {
                if index > 1 {
                    do { try await Task.sleep(for: interval) } catch { return }
                }
                continuation.yield(.textDelta("c\(index) "))
            }
            record.didFinish()
            continuation.yield(.stop(.endTurn))
            continuation.finish()
        }
        continuation.onTermination = { termination in
            if case .cancelled = termination {
                record.wasCancelled()
                producer.cancel()
            }
        }
        return stream
    }
}
