import Foundation
import Logging
import MCP

/// Hands MCP's client its transport's stream once. The client's receive loop (swift-sdk
/// 0.12, `Client.connect(transport:)`) asks for the stream again whenever it ends without an
/// error, and a stdio transport whose server has gone returns the same finished stream: the
/// loop then spun at 100% CPU for ever, with pending calls never answered. Asked a second
/// time, this transport calls `onEnd` (which disconnects the client, failing pending calls)
/// and throws, which ends the loop.
actor ReceiveOnceTransport: Transport {
    private let inner: any Transport
    private let onEnd: @Sendable () -> Void
    /// The inner transport's stream, taken when connected, until the client takes it.
    private var stream: AsyncThrowingStream<Data, any Error>?
    nonisolated let logger: Logger

    init(_ inner: any Transport, logger: Logger, onEnd: @escaping @Sendable () -> Void) {
        self.inner = inner
        self.logger = logger
        self.onEnd = onEnd
    }

    func connect() async throws {
        try await inner.connect()
        stream = await inner.receive()
    }

    func disconnect() async { await inner.disconnect() }
    func send(_ data: Data) async throws { try await inner.send(data) }

    func receive() -> AsyncThrowingStream<Data, any Error> {
        if let stream {
            self.stream = nil
            return stream
        }
        onEnd()
        return AsyncThrowingStream { $0.finish(throwing: MCPError.connectionClosed) }
    }
}
