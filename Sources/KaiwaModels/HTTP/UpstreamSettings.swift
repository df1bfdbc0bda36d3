/// Timeouts and retries for calls to a model server.
public struct UpstreamSettings: Sendable, Hashable {
    /// Longest wait to open a connection.
    public var connectTimeout: Duration
    /// Longest wait from sending the request to the first piece of the answer.
    public var firstTokenTimeout: Duration
    /// Longest quiet time between two pieces of a streamed answer.
    public var idleTimeout: Duration
    /// How many times a request is sent at most (1 = no retry). Retries happen on throttling,
    /// 5xx answers and connection failures, and never once the answer has begun.
    public var maxAttempts: Int
    /// The first retry waits up to this long; each next one up to twice as long (full jitter).
    public var retryBaseDelay: Duration
    /// Retries stop once this much time has passed since the first attempt.
    public var retryBudget: Duration

    public init(
        connectTimeout: Duration = .seconds(5),
        firstTokenTimeout: Duration = .seconds(60),
        idleTimeout: Duration = .seconds(30),
        maxAttempts: Int = 3,
        retryBaseDelay: Duration = .milliseconds(250),
        retryBudget: Duration = .seconds(20)
    ) {
        self.connectTimeout = connectTimeout
        self.firstTokenTimeout = firstTokenTimeout
        self.idleTimeout = idleTimeout
        self.maxAttempts = max(1, maxAttempts)
        self.retryBaseDelay = retryBaseDelay
        self.retryBudget = retryBudget
    }
}
