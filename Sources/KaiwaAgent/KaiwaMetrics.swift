import CoreMetrics
import KaiwaCore
import Synchronization

/// What the server counts and times for `/metrics`. Made once per server around a metrics
/// factory (Prometheus when `metrics.enabled`, nothing otherwise) and handed to the parts
/// that do the work: no global metrics system is bootstrapped.
public struct KaiwaMetrics: Sendable {
    public let factory: any MetricsFactory
    /// `false` for `.off`: then nothing is made per request (each metric object is an allocation).
    let isOn: Bool
    private let handles = Handles()

    public init(factory: any MetricsFactory) {
        self.factory = factory
        isOn = true
    }

    private init(off factory: any MetricsFactory) {
        self.factory = factory
        isOn = false
    }

    /// Each label set's counter and timer, made once: the factory's lookup (a lock, label
    /// checks, string keys) is then off the request path, which asks about ten of them.
    private final class Handles: Sendable {
        let counters = Mutex<[String: Counter]>([:])
        let timers = Mutex<[String: Timer]>([:])

        static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
            dimensions.reduce(into: label) { key, pair in key += "\u{1F}" + pair.0 + "=" + pair.1 }
        }
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = Handles.key(label, dimensions)
        if let known = handles.counters.withLock({ $0[key] }) { return known }
        let made = Counter(label: label, dimensions: dimensions, factory: factory)
        return handles.counters.withLock { counters in
            if let raced = counters[key] { return raced }
            counters[key] = made
            return made
        }
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        let key = Handles.key(label, dimensions)
        if let known = handles.timers.withLock({ $0[key] }) { return known }
        let made = Timer(label: label, dimensions: dimensions, factory: factory)
        return handles.timers.withLock { timers in
            if let raced = timers[key] { return raced }
            timers[key] = made
            return made
        }
    }

    /// Metrics that go nowhere.
    public static let off = KaiwaMetrics(off: NOOPMetricsHandler.instance)

    /// One HTTP request (its route as the router knows it, not its path: ids stay out).
    public func httpRequest(method: String, route: String, status: Int, duration: Duration) {
        guard isOn else { return }
        let dimensions = [("method", method), ("route", route), ("status", String(status))]
        counter("kaiwa_http_requests_total", dimensions).increment()
        timer("kaiwa_http_request_duration_seconds", [("method", method), ("route", route)])
            .record(duration: duration)
        if status == 429 {
            counter("kaiwa_rate_limited_total", [("route", route)]).increment()
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
        counter("kaiwa_replies_total", [("outcome", outcome)]).increment()
    }

    /// A reply's model work: time to its first text, whole duration, and tokens.
    public func modelCall(model: String, firstToken: Duration?, duration: Duration, usage: TokenUsage?) {
        guard isOn else { return }
        let dimensions = [("model", model)]
        if let firstToken {
            timer("kaiwa_model_time_to_first_token_seconds", dimensions).record(duration: firstToken)
        }
        timer("kaiwa_model_duration_seconds", dimensions).record(duration: duration)
        if let usage {
            counter("kaiwa_model_tokens_total", [("model", model), ("direction", "input")])
                .increment(by: usage.inputTokens)
            counter("kaiwa_model_tokens_total", [("model", model), ("direction", "output")])
                .increment(by: usage.outputTokens)
        }
    }

    public func toolCall(_ tool: String, ok: Bool) {
        guard isOn else { return }
        counter("kaiwa_tool_calls_total", [("tool", tool), ("outcome", ok ? "ok" : "error")]).increment()
    }

    /// Times one store operation; rethrows its error.
    public func storeCall<T>(_ operation: String, _ body: () async throws -> T) async rethrows -> T {
        guard isOn else { return try await body() }
        let started = ContinuousClock.now
        defer {
            timer("kaiwa_store_call_duration_seconds", [("operation", operation)])
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
