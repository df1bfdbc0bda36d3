import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OpenAPIRuntime

/// The calls `kaiwa chat` makes to a running Kaiwa server: `GET /health`, `POST /chat/stream`
/// (its Server-Sent Events as an `AsyncSequence`), `POST /api/sessions/{id}/stop`,
/// `GET /api/sessions` and `GET /api/sessions/{id}`. With an API key every call carries
/// `Authorization: Bearer <key>`.
struct ChatClient: Sendable {
    /// The server's address without a trailing slash (a path prefix is kept).
    let baseURL: String
    let apiKey: String?
    let http: HTTPClient

    init(baseURL: String, apiKey: String?) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        var configuration = HTTPClient.Configuration()
        // A reply can be quiet for a long time (the server sends keep-alive comments), so
        // there is no read timeout; connecting must be quick to tell that nothing listens.
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(5), read: nil)
        // A refused connection is reported at once rather than retried until the timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    // MARK: - Calls

    struct Health: Decodable, Sendable {
        var version: String?
        var model: String?
        var status: String?
    }

    func health() async throws -> Health {
        try await getJSON("/health", as: Health.self)
    }

    struct MessageRequest: Encodable, Sendable {
        var message: String
        var sessionID: String?
        var agent: String?
        var model: String?

        enum CodingKeys: String, CodingKey {
            case message
            case sessionID = "session_id"
            case agent
            case model
        }
    }

    /// Sends a message and returns the reply's events as they arrive. Ending the iteration
    /// (or cancelling the task iterating) hangs up, which does not stop the reply on the
    /// server: `stop(session:)` does.
    func streamReply(_ message: MessageRequest) async throws -> some AsyncSequence<ChatStreamEvent, any Error> {
        var request = makeRequest("/chat/stream", method: .POST)
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(message)))
        let response = try await send(request, headDeadline: .minutes(5))
        guard response.status == .ok else { throw await Self.failure(from: response) }
        return ReplyEvents(events: response.body.map { ArraySlice($0.readableBytesView) }.asDecodedServerSentEvents())
    }

    /// Asks the server to stop the reply being written in `session`; whether one was.
    @discardableResult
    func stop(session: String) async throws -> Bool {
        struct StopResult: Decodable { var stopped: Bool? }
        let request = makeRequest("/api/sessions/\(Self.pathComponent(session))/stop", method: .POST)
        let response = try await send(request, headDeadline: .seconds(10))
        let body = try await Self.collect(response)
        guard response.status == .ok else { throw Self.failure(status: response.status, body: body) }
        return (try? JSONDecoder().decode(StopResult.self, from: body))?.stopped ?? false
    }

    struct SessionSummary: Decodable, Sendable {
        var id: String
        var title: String?
        var agent: String?
        var updatedAt: String?
    }

    struct SessionList: Decodable, Sendable {
        var sessions: [SessionSummary]
        var nextCursor: String?
    }

    /// The caller's conversations, the most recently used first.
    func sessions(limit: Int = 20) async throws -> SessionList {
        try await getJSON("/api/sessions?limit=\(limit)", as: SessionList.self)
    }

    struct StoredMessage: Decodable, Sendable {
        var role: String
        var text: String?
        var status: String?
        var model: String?
    }

    struct SessionDetail: Decodable, Sendable {
        var id: String
        var title: String?
        var agent: String?
        var updatedAt: String?
        var messages: [StoredMessage]
    }

    func session(_ id: String) async throws -> SessionDetail {
        try await getJSON("/api/sessions/\(Self.pathComponent(id))", as: SessionDetail.self)
    }

    // MARK: - Plumbing

    private func makeRequest(_ path: String, method: HTTPMethod) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "User-Agent", value: "kaiwa-chat")
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        return request
    }

    private func getJSON<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        let response = try await send(makeRequest(path, method: .GET), headDeadline: .seconds(15))
        let body = try await Self.collect(response)
        guard response.status == .ok else { throw Self.failure(status: response.status, body: body) }
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(T.self, from: body)
        } catch {
            throw ChatClientError.unexpectedAnswer("\(path) answered with JSON of another shape (\(error)).")
        }
    }

    /// Executes `request`; failures to connect or to get an answer become `.unreachable`.
    private func send(_ request: HTTPClientRequest, headDeadline: TimeAmount) async throws -> HTTPClientResponse {
        do {
            return try await http.execute(request, timeout: headDeadline)
        } catch let error as HTTPClientError where error == .cancelled {
            throw CancellationError()
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw ChatClientError.unreachable(url: baseURL, reason: Self.describeConnectionError(error))
        }
    }

    private static func collect(_ response: HTTPClientResponse) async throws -> Data {
        var buffer = try await response.body.collect(upTo: 8 << 20)
        return Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
    }

    private static func failure(from response: HTTPClientResponse) async -> ChatClientError {
        let body = (try? await collect(response)) ?? Data()
        return failure(status: response.status, body: body)
    }

    /// Kaiwa's errors are `{"error": code, "message": text}`; anything else is shown by its
    /// status.
    static func failure(status: HTTPResponseStatus, body: Data) -> ChatClientError {
        struct ErrorBody: Decodable {
            var error: String?
            var message: String?
        }
        if let decoded = try? JSONDecoder().decode(ErrorBody.self, from: body), let message = decoded.message {
            return .server(status: Int(status.code), code: decoded.error, message: message)
        }
        return .server(status: Int(status.code), code: nil, message: "The server answered \(status.code) \(status.reasonPhrase).")
    }

    private static func describeConnectionError(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.localizedCaseInsensitiveContains("refused") { return "connection refused" }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connecting timed out"
            case .deadlineExceeded: return "no answer in time"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: break
            }
        }
        return text
    }

    private static func pathComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? text
    }
}

enum ChatClientError: Error, CustomStringConvertible, Equatable {
    /// Nothing answered at `url`.
    case unreachable(url: String, reason: String)
    /// The server refused the request: its message.
    case server(status: Int, code: String?, message: String)
    case unexpectedAnswer(String)
    /// The reply's stream ended before its `done` or `error` event.
    case streamEnded

    var description: String {
        switch self {
        case .unreachable(let url, let reason): "Cannot reach the Kaiwa server at \(url): \(reason)."
        case .server(_, _, let message): message
        case .unexpectedAnswer(let text): text
        case .streamEnded: "The connection to the server ended before the reply did."
        }
    }
}

// MARK: - The reply's events

/// One event of a reply, as `/chat/stream` sends it (see `ChatEvent` in KaiwaCore).
enum ChatStreamEvent: Sendable, Equatable {
    case session(id: String)
    case delta(text: String)
    /// `input` is the tool's input as compact JSON text.
    case toolCall(id: String, name: String, input: String)
    case toolResult(id: String, ok: Bool, summary: String)
    case usage(inputTokens: Int, outputTokens: Int)
    case done(messageID: String?, stopped: Bool, model: String?)
    case error(code: String, message: String)
    /// An event type this client does not know (a newer server): skipped.
    case other(type: String)

    var isTerminal: Bool {
        switch self {
        case .done, .error: true
        default: false
        }
    }

    /// Decodes one Server-Sent Event: its `event:` name (or the JSON's `type`) and `data:`.
    init(type: String?, data: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] else {
            throw ChatClientError.unexpectedAnswer("The server sent an event that is not JSON: \(data.prefix(200))")
        }
        let kind = type ?? (object["type"] as? String) ?? ""
        func string(_ key: String) -> String? { object[key] as? String }
        func int(_ key: String) -> Int { (object[key] as? NSNumber)?.intValue ?? 0 }
        switch kind {
        case "session":
            self = .session(id: string("session_id") ?? "")
        case "delta":
            self = .delta(text: string("text") ?? "")
        case "tool_call":
            var input = ""
            if let value = object["input"] {
                if JSONSerialization.isValidJSONObject(value),
                    let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
                {
                    input = String(decoding: data, as: UTF8.self)
                } else if let text = value as? String {
                    input = text
                } else if !(value is NSNull) {
                    input = "\(value)"
                }
            }
            self = .toolCall(id: string("id") ?? "", name: string("name") ?? "tool", input: input)
        case "tool_result":
            self = .toolResult(id: string("id") ?? "", ok: (object["ok"] as? Bool) ?? false, summary: string("summary") ?? "")
        case "usage":
            self = .usage(inputTokens: int("input_tokens"), outputTokens: int("output_tokens"))
        case "done":
            self = .done(messageID: string("message_id"), stopped: (object["stopped"] as? Bool) ?? false, model: string("model"))
        case "error":
            self = .error(code: string("error") ?? "error", message: string("message") ?? "The reply failed.")
        default:
            self = .other(type: kind)
        }
    }
}

/// The events of `/chat/stream`'s answer, decoded as they arrive (by OpenAPIRuntime's
/// Server-Sent Events decoder, as the OpenAI provider reads its upstream's).
struct ReplyEvents<Events: AsyncSequence>: AsyncSequence where Events.Element == ServerSentEvent {
    typealias Element = ChatStreamEvent
    let events: Events

    func makeAsyncIterator() -> Iterator {
        Iterator(events: events.makeAsyncIterator())
    }

    struct Iterator: AsyncIteratorProtocol {
        var events: Events.AsyncIterator

        mutating func next() async throws -> ChatStreamEvent? {
            while let event = try await events.next() {
                // An event without data is not dispatched (WHATWG).
                guard let data = event.data else { continue }
                return try ChatStreamEvent(type: event.event, data: data)
            }
            return nil
        }
    }
}
