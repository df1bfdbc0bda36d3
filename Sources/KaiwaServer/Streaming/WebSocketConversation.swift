import Foundation
import HummingbirdWebSocket
import KaiwaAgent
import KaiwaAuth
import KaiwaCore
import KaiwaStore
import Logging
import NIOWebSocket

/// One WebSocket connection (seed 002): many messages, one reply at a time.
///
/// Client frames: `{"action": "sendMessage", "message": …, "session_id"?: …, "agent"?: …}` and
/// `{"action": "stop"}`. Server frames: the reply's events as JSON with a `type`, and
/// `{"type": "error", "error": code, "message": …}` for a frame that cannot be taken. A frame
/// over the limit gets an error frame and close code 1009; any other bad frame leaves the
/// connection open.
struct WebSocketConversation {
    let runner: ReplyRunner
    let store: any ChatStore
    let clock: any WallClock
    let maxFrameBytes: Int
    let connectionTTL: Duration
    /// Counts each message against its sender's requests a minute, as an HTTP request is.
    let limiter: UsageLimiter
    let logger: Logger

    /// What every client frame has; `sendMessage` frames are also a `ChatRequestBody`.
    struct ClientFrame: Decodable {
        var action: String
    }

    struct ErrorFrame: Encodable {
        var type = "error"
        var error: String
        var message: String
    }

    /// Runs one connection of `subject`'s (resolved when the connection was upgraded).
    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, subject: Subject) async {
        let connection = ConnectionRecord(
            id: UUIDString.random(), createdAt: clock.now(), expiresAt: clock.now().addingTimeInterval(connectionTTL.seconds)
        )
        await record(connection)
        runner.chat.metrics.stream("websocket", opened: true)
        defer { runner.chat.metrics.stream("websocket", opened: false) }
        await withTaskGroup(of: Void.self) { group in
            var current: LiveReply?
            do {
                // The transport accepts larger messages so that an oversized one can be answered.
                for try await message in inbound.messages(maxSize: maxFrameBytes * 4) {
                    guard case .text(let text) = message else {
                        await send(KaiwaError.badRequest("Send JSON text frames."), to: outbound)
                        continue
                    }
                    guard text.utf8.count <= maxFrameBytes else {
                        await send(KaiwaError(.payloadTooLarge, "A frame may be at most \(maxFrameBytes) bytes."), to: outbound)
                        try? await outbound.close(.messageTooLarge, reason: "frame too large")
                        break
                    }
                    do {
                        let frame = try Self.decode(ClientFrame.self, from: text)
                        switch frame.action {
                        case "sendMessage":
                            if let running = current, !running.isFinished {
                                throw KaiwaError(.conflict, "A reply is still being written. Wait for it, or send {\"action\":\"stop\"}.")
                            }
                            let body = try Self.decode(ChatRequestBody.self, from: text)
                            try await limiter.admitRequest(subject)
                            let reply = try await runner.start(try body.chatRequest(from: subject))
                            current = reply
                            var updated = connection
                            updated.sessionID = reply.sessionID
                            await record(updated)
                            group.addTask { await forward(reply, to: outbound) }
                        case "stop":
                            // A running reply answers with its `done` (stopped); otherwise say that nothing was stopped.
                            if let running = current, !running.isFinished {
                                running.stop()
                                group.addTask { await answerIfTooLate(running, to: outbound) }
                            } else {
                                try await outbound.write(.text(#"{"type":"stop","stopped":false}"#))
                            }
                        default:
                            throw KaiwaError.badRequest("Unknown action \"\(frame.action)\". Use \"sendMessage\" or \"stop\".")
                        }
                    } catch {
                        await send(ErrorResponseMiddleware<KaiwaRequestContext>.clientError(for: error, logger: logger), to: outbound)
                    }
                }
            } catch {
                logger.debug("WebSocket closed", metadata: ["error": "\(error)"])
            }
            group.cancelAll()
        }
        do {
            try await store.deleteConnection(connection.id)
        } catch {
            logger.warning("Could not delete a connection record", metadata: ["error": "\(error)"])
        }
    }

    private func forward(_ reply: LiveReply, to outbound: WebSocketOutboundWriter) async {
        let follower = reply.follow()
        defer { runner.leave(follower) }
        await runner.following {
            for await frame in follower.frames {
                guard case .event(let event) = frame else { continue }
                do {
                    try await outbound.write(.text(event.jsonText))
                } catch {
                    return
                }
            }
        }
    }

    /// A stop that arrived while the reply was already being stored does not stop it: its
    /// `done` says `stopped: false`, and this frame answers the stop.
    private func answerIfTooLate(_ reply: LiveReply, to outbound: WebSocketOutboundWriter) async {
        let follower = reply.follow()
        defer { runner.leave(follower) }
        for await frame in follower.frames {
            guard case .event(let event) = frame, event.event.isTerminal else { continue }
            if case .done(_, _, true, _, _) = event.event { return }
            try? await outbound.write(.text(#"{"type":"stop","stopped":false}"#))
            return
        }
    }

    private func send(_ error: KaiwaError, to outbound: WebSocketOutboundWriter) async {
        let frame = ErrorFrame(error: error.code.rawValue, message: error.message)
        guard let data = try? JSONEncoder().encode(frame) else { return }
        try? await outbound.write(.text(String(decoding: data, as: UTF8.self)))
    }

    private func record(_ connection: ConnectionRecord) async {
        do {
            try await store.saveConnection(connection)
        } catch {
            logger.warning("Could not store a connection record", metadata: ["error": "\(error)"])
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw KaiwaError.badRequest(JSONBody.describe(error).replacingOccurrences(of: "The body", with: "A frame"))
        }
    }
}
