import Hummingbird
import Logging

/// The per-request context every Kaiwa route sees.
public struct KaiwaRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// Request bodies are read by `JSONBody` with Kaiwa's own limit.
    public var maxUploadSize: Int { 1024 * 1024 }
}
