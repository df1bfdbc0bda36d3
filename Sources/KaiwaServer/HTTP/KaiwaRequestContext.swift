import Hummingbird
import HummingbirdWebSocket
import KaiwaCore
import Logging
import NIOCore

/// A request context that carries the caller, as the authentication middleware resolved it.
public protocol SubjectRequestContext: RequestContext {
    /// Who is calling; the local user until the authentication middleware says otherwise.
    var subject: Subject { get set }
    /// The address the connection came from.
    var remoteAddress: SocketAddress? { get }
}

/// The per-request context every Kaiwa route sees.
public struct KaiwaRequestContext: SubjectRequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<KaiwaRequestContext>
    public var subject = Subject.local
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Request bodies are read by `JSONBody` with Kaiwa's own limit.
    public var maxUploadSize: Int { 1024 * 1024 }
}
