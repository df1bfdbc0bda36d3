import KaiwaAgent
import KaiwaCore

/// The collected form of a reply's event stream, for transports that answer once.
struct CollectedReply: Sendable {
    var text = ""
    var messageID: String?
    var usage: TokenUsage?
    var stopped = false
    /// The catalogue model that answered.
    var model: String?
    var costUSD: Double?

    /// Follows `reply` to its end. A reply that ended in an `error` event throws it as a
    /// `KaiwaError`, so that the client gets its status (503, 504, …).
    static func collect(_ reply: LiveReply, runner: ReplyRunner) async throws -> CollectedReply {
        let follower = reply.follow(endOnly: true)
        defer { runner.leave(follower) }
        await runner.following {
            for await frame in follower.frames {
                if case .event(let last) = frame, last.event.isTerminal { break }
            }
        }
        var collected = CollectedReply()
        for sequenced in reply.eventsSoFar {
            switch sequenced.event {
            case .delta(let text): collected.text += text
            case .usage(let usage): collected.usage = usage
            case .done(let messageID, let response, let stopped, let model, let costUSD):
                collected.messageID = messageID
                collected.text = response
                collected.stopped = stopped
                collected.model = model
                collected.costUSD = costUSD
            case .error(let code, let message):
                throw KaiwaError(KaiwaError.Code(rawValue: code) ?? .serviceUnavailable, message)
            case .session, .toolCall, .toolResult: break
            }
        }
        return collected
    }
}
