import Hummingbird
import HummingbirdWebSocket
import Logging

/// The per-request context every Kaiwa route sees.
public struct KaiwaRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<KaiwaRequestContext>

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
    }

    /// Request bodies are read by `JSONBody` with Kaiwa's own limit.
    public var maxUploadSize: Int { 1024 * 1024 }
}
