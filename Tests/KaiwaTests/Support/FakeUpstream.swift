import AsyncHTTPClient
import Hummingbird
import HummingbirdTesting
import Logging
import KaiwaCore
import Synchronization

/// A fake model server on a loopback port, built from a Hummingbird router, for as long as
/// `body` runs.
func withFakeUpstream(
    _ configure: (Router<BasicRequestContext>) -> Void,
    _ body: @Sendable (_ baseURL: String) async throws -> Void
) async throws {
    let router = Router()
    configure(router)
    var logger = Logger(label: "fake-upstream")
    logger.logLevel = .warning
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
    try await app.test(.live) { client in
        try await body("http://127.0.0.1:\(client.port!)")
    }
}

/// Counts calls to a fake upstream, so a test can script "fail, then succeed".
final class CallCounter: Sendable {
    private let count = Mutex(0)
    /// Records a call and returns its number, starting at 1.
    func next() -> Int { count.withLock { $0 += 1; return $0 } }
    var value: Int { count.withLock { $0 } }
}

/// One HTTP client for all provider tests.
let testHTTPClient = HTTPClient.shared

/// Collects a provider's events; rethrows its error.
func collectEvents(_ stream: AsyncThrowingStream<ModelStreamEvent, any Error>) async throws -> [ModelStreamEvent] {
    var events: [ModelStreamEvent] = []
    for try await event in stream { events.append(event) }
    return events
}

/// A value shared between a fake server and a test.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ initial: Value) { value = Mutex(initial) }
    func get() -> Value { value.withLock { $0 } }
    func set(_ new: Value) { value.withLock { $0 = new } }
    func update(_ change: (inout Value) -> Void) { value.withLock { change(&$0) } }
}
