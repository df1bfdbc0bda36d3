import CoreMetrics
import KaiwaCore

/// What the server counts and times for `/metrics`. Made once per server around a metrics
/// factory (Prometheus when `metrics.enabled`, nothing otherwise) and handed to the parts
/// that do the work: no global metrics system is bootstrapped.
public struct KaiwaMetrics: Sendable {
    public let factory: any MetricsFactory
    /// `false` for `.off`: then nothing is made per request (each metric object is an allocation).
    let isOn: Bool

    public init(factory: any MetricsFactory) {
        self.factory = factory
        isOn = true
    }

    private init(off factory: any MetricsFactory) {
        self.factory = factory
        isOn = false
    }

    /// Metrics that go nowhere.
    public static let off = KaiwaMetrics(off: NOOPMetricsHandler.instance)

    /// One HTTP request (its route as the router knows it, not its path: ids stay out).
    public func httpRequest(method: String, route: String, status: Int, duration: Duration) {
        guard isOn else { return }
        let dimensions = [("method", method), ("route", route), ("status", String(status))]
        Counter(label: "kaiwa_http_requests_total", dimensions: dimensions, factory: factory).increment()
        Timer(label: "kaiwa_http_request_duration_seconds", dimensions: [("method", method), ("route", route)], factory: factory)
            .record(duration: duration)
        if status == 429 {
            Counter(label: "kaiwa_rate_limited_total", dimensions: [("route", route)], factory: factory).increment()
        }
    }

    /// A client began (`opened: true`) or stopped following a reply over `transport` (`sse`, `websocket`).
    public func stream(_ transport: String, opened: Bool) {
        guard isOn else { return }
        let open = Meter(label: "kaiwa_streams_open", dimensions: [("transport", transport)], factory: factory)
        if opened { open.increment() } else { open.decrement() }
    }

    /// A reply ended: `complete`, `partial`, `error` or `interrupted`.
    public func replyEnded(outcome: String) {
        guard isOn else { return }
        Counter(label: "kaiwa_replies_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// A reply's model work: time to its first text, whole duration, and tokens.
    public func modelCall(model: String, firstToken: Duration?, duration: Duration, usage: TokenUsage?) {
        guard isOn else { return }
        let dimensions = [("model", model)]
        if let firstToken {
            Timer(label: "kaiwa_model_time_to_first_token_seconds", dimensions: dimensions, factory: factory).record(duration: firstToken)
        }
        Timer(label: "kaiwa_model_duration_seconds", dimensions: dimensions, factory: factory).record(duration: duration)
        if let usage {
            Counter(label: "kaiwa_model_tokens_total", dimensions: [("model", model), ("direction", "input")], factory: factory)
                .increment(by: usage.inputTokens)
            Counter(label: "kaiwa_model_tokens_total", dimensions: [("model", model), ("direction", "output")], factory: factory)
                .increment(by: usage.outputTokens)
        }
    }

    public func toolCall(_ tool: String, ok: Bool) {
        guard isOn else { return }
        Counter(label: "kaiwa_tool_calls_total", dimensions: [("tool", tool), ("outcome", ok ? "ok" : "error")], factory: factory).increment()
    }

    /// Times one store operation; rethrows its error.
    public func storeCall<T>(_ operation: String, _ body: () async throws -> T) async rethrows -> T {
        guard isOn else { return try await body() }
        let started = ContinuousClock.now
        defer {
            Timer(label: "kaiwa_store_call_duration_seconds", dimensions: [("operation", operation)], factory: factory)
                .record(duration: ContinuousClock.now - started)
        }
        return try await body()
    }
}

extension Timer {
    func record(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
