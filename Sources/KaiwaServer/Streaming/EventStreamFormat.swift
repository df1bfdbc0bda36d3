import Foundation
import KaiwaCore

/// How a transport turns a reply's events into text frames. Transports differ only here.
protocol EventStreamFormat: Sendable {
    /// The bytes for one event.
    func encode(_ event: SequencedChatEvent) -> String
    /// What to send when the reply has been quiet for a while, if anything.
    var heartbeat: String? { get }
}

/// Kaiwa's Server-Sent Events: `id:` is the event's sequence (for `Last-Event-ID`), `event:`
/// its type, `data:` its JSON. A comment line is the heartbeat.
struct KaiwaSSEFormat: EventStreamFormat {
    func encode(_ event: SequencedChatEvent) -> String {
        "id: \(event.sequence)\nevent: \(event.event.type)\ndata: \(event.jsonText)\n\n"
    }

    var heartbeat: String? { ": keep-alive\n\n" }
}

/// Server-Sent Events the way the AgentCore SDK writes them: `data: <json>` only. A failure
/// after the stream began is a data event `{"error", "error_type", "message"}`.
struct AgentCoreSSEFormat: EventStreamFormat {
    struct StreamError: Encodable {
        var error: String
        var errorType: String
        var message: String

        enum CodingKeys: String, CodingKey {
            case error
            case errorType = "error_type"
            case message
        }
    }

    func encode(_ event: SequencedChatEvent) -> String {
        if case .error(let code, let message) = event.event {
            let body = StreamError(error: message, errorType: code, message: message)
            let json = (try? JSONEncoder().encode(body)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return "data: \(json)\n\n"
        }
        return "data: \(event.jsonText)\n\n"
    }

    var heartbeat: String? { ": keep-alive\n\n" }
}
