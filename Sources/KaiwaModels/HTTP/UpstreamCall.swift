import AsyncHTTPClient
import Foundation
import KaiwaCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// One call to a model server: send (retrying what is worth retrying, before the answer
/// begins), then read the answer under the first-token and idle timeouts.
struct UpstreamCall: Sendable {
    let client: HTTPClient
    let settings: UpstreamSettings
    let logger: Logger

    /// Sends the request made by `makeRequest` (called again for each attempt, so that it
    /// can be signed afresh) and hands the successful response's body chunks to `consume`.
    /// A non-2xx answer becomes the `ModelError` that `classify` makes of its status and body.
    func perform(
        makeRequest: @escaping @Sendable () async throws -> HTTPClientRequest,
        classify: @escaping @Sendable (HTTPResponseStatus, HTTPHeaders, String) -> ModelError,
        consume: @escaping @Sendable (HTTPClientResponse, _ progress: Progress) async throws -> Void
    ) async throws {
        let progress = Progress()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let response = try await send(makeRequest: makeRequest, classify: classify, progress: progress)
                try await consume(response, progress)
            }
            group.addTask { try await watch(progress) }
            try await group.next()
            group.cancelAll()
        }
    }

    private func send(
        makeRequest: @Sendable () async throws -> HTTPClientRequest,
        classify: @Sendable (HTTPResponseStatus, HTTPHeaders, String) -> ModelError,
        progress: Progress
    ) async throws -> HTTPClientResponse {
        let start = ContinuousClock.now
        var attempt = 1
        while true {
            let failure: ModelError
            /// How long the model server asked us to wait (`Retry-After` in seconds).
            var askedToWait: Duration?
            do {
                // With tracing on, AsyncHTTPClient adds a span for the request and sends its W3C
                // `traceparent`: the model server's spans join the reply's trace.
                let response = try await client.execute(try await makeRequest(), timeout: .seconds(Int64(settings.firstTokenTimeout.seconds) + 1))
                if (200..<300).contains(response.status.code) { return response }
                let body = try await response.body.collect(upTo: 64 * 1024)
                failure = classify(response.status, response.headers, String(buffer: body))
                askedToWait = response.headers.first(name: "Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                    .map { .seconds(max(0, $0)) }
            } catch let error as ModelError {
                failure = error
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
                failure = ModelError(.timeout, "no answer in time: \(error)")
            } catch let error as HTTPClientError where error == .connectTimeout {
                failure = ModelError(.unavailable, "could not connect in time")
            } catch {
                failure = ModelError(.unavailable, "request failed: \(error)")
            }
            // A wait the server asked for is honoured; one longer than the retry budget ends the tries now.
            let delay = max(retryDelay(after: attempt), askedToWait ?? .zero)
            guard failure.isRetryable, attempt < settings.maxAttempts, ContinuousClock.now - start + delay < settings.retryBudget else {
                throw failure
            }
            logger.warning("Model call failed; retrying", metadata: ["attempt": "\(attempt)", "error": "\(failure)"])
            // The next attempt's first-token window starts when it is sent, not now.
            progress.restart(after: delay)
            try await Task.sleep(for: delay)
            attempt += 1
        }
    }

    /// Full jitter: a random wait between 0 and base × 2^(attempt − 1).
    private func retryDelay(after attempt: Int) -> Duration {
        let ceiling = settings.retryBaseDelay.seconds * pow(2, Double(attempt - 1))
        return .milliseconds(Int64(Double.random(in: 0...ceiling) * 1000))
    }

    /// Throws `ModelError.timeout` when the first piece of the answer, or the next one, is late.
    private func watch(_ progress: Progress) async throws {
        while true {
            let (since, started) = progress.state
            let limit = started ? settings.idleTimeout : settings.firstTokenTimeout
            let elapsed = ContinuousClock.now - since
            if elapsed >= limit {
                throw ModelError(.timeout, started ? "the answer stalled for \(limit)" : "no answer within \(limit)")
            }
            try await Task.sleep(for: min(limit - elapsed, .milliseconds(250)))
        }
    }

    /// When the answer last made progress, and whether it has begun.
    final class Progress: Sendable {
        private let value = Mutex((since: ContinuousClock.now, started: false))

        var state: (since: ContinuousClock.Instant, started: Bool) { value.withLock { ($0.since, $0.started) } }
        var hasStarted: Bool { value.withLock { $0.started } }

        /// Called for each piece of the answer.
        func advanced() { value.withLock { $0 = (ContinuousClock.now, true) } }

        /// A new attempt, sent after `delay`: its answer has not begun.
        func restart(after delay: Duration = .zero) { value.withLock { $0 = (ContinuousClock.now + delay, false) } }
    }
}

/// A response body as byte slices (the shape OpenAPIRuntime's SSE decoder reads), marking
/// progress for the idle timeout as each piece arrives.
struct ProgressReportingBody: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    let body: HTTPClientResponse.Body
    let progress: UpstreamCall.Progress

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: HTTPClientResponse.Body.AsyncIterator
        let progress: UpstreamCall.Progress

        mutating func next() async throws -> ArraySlice<UInt8>? {
            guard let buffer = try await base.next() else { return nil }
            progress.advanced()
            return ArraySlice(buffer.readableBytesView)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: body.makeAsyncIterator(), progress: progress)
    }
}

extension HTTPClientResponse {
    /// Whether the server answered with one JSON document rather than a stream.
    var isJSON: Bool {
        headers.first(name: "Content-Type")?.lowercased().contains("json") == true
    }
}

