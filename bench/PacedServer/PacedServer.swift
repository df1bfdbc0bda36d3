import Foundation
import Hummingbird
import KaiwaCore
import KaiwaServer
import KaiwaStore

/// The Kaiwa server with a paced model, for the streaming benchmark: every reply is
/// `chunks` pieces of `chunkBytes` bytes, one every `interval`.
/// Usage: kaiwa-paced-server PORT [CHUNKS] [INTERVAL_MS] [STORE: memory|sqlite]
@main
struct PacedServer {
    struct PacedModel: ModelProvider {
        var modelID: String { "paced" }
        let chunks: Int
        let interval: Duration
        let chunk = String(repeating: "x", count: 20)

        func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelStreamEvent, any Error> {
            let (chunks, interval, chunk) = (self.chunks, self.interval, self.chunk)
            let sent = Counter()
            return AsyncThrowingStream(unfolding: {
                let index = sent.next()
                if index > chunks { return nil }
                if index == chunks { return .stop(.endTurn) }
                if index > 0 { try await Task.sleep(for: interval) }
                return .textDelta(chunk)
            })
        }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            defer { value += 1 }
            return value
        }
    }

    static func main() async throws {
        let arguments = CommandLine.arguments
        var configuration = KaiwaConfiguration()
        configuration.port = arguments.count > 1 ? Int(arguments[1]) ?? 8080 : 8080
        let chunks = arguments.count > 2 ? Int(arguments[2]) ?? 333 : 333
        let interval = Duration.milliseconds(arguments.count > 3 ? Int(arguments[3]) ?? 30 : 30)
        configuration.store = arguments.count > 4 && arguments[4] == "sqlite" ? .sqlite : .memory
        configuration.sqlitePath = "/tmp/kaiwa-bench.sqlite"
        configuration.logLevel = "warning"
        configuration.webSocketMaxFrameBytes = 32 * 1024
        let store: any ChatStore = configuration.store == .sqlite ? try SQLiteChatStore(path: configuration.sqlitePath) : InMemoryChatStore()
        let app = try await buildApplication(
            configuration,
            dependencies: AppDependencies(store: store, model: PacedModel(chunks: chunks, interval: interval))
        )
        try await app.runService()
    }
}
