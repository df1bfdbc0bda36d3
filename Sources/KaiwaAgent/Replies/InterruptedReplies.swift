import Foundation
import KaiwaCore
import KaiwaStore
import Logging

/// Replies whose server went away while writing them (a crash, `kill -9`, a lost instance).
/// Their user message is stored, and the events streamed so far are in the store (written
/// every `persistInterval`), but no reply message and no last event. Settling such a reply
/// stores what it had written as a `partial` message and ends its events with a
/// `reply_interrupted` error, so that the history reads as it happened and a resume ends.
///
/// It happens when someone next looks: a new turn in the session, a read of it, a resume.
/// A reply counts as gone when this instance is not running it and, where instances share
/// the store, no instance holds its claim on the session (claims run out after
/// `sessionLease` without renewal).
extension ReplyRunner {
    /// Settles the session's latest reply if it was interrupted; nothing otherwise. Two
    /// callers at once, here or on other instances, store it once: each takes the session
    /// (as a new turn would) and reads the events again before writing.
    /// - Returns: whether a reply was settled.
    @discardableResult
    public func settleInterruptedReply(in session: SessionID) async throws -> Bool {
        guard reply(in: session) == nil,
            let stored = try await chat.store.replyEvents(in: session, after: 0), !stored.isFinished,
            try await isGone(stored.replyID, in: session)
        else { return false }
        guard reserveForSettling(session) else { return false }
        defer { endSettling(session) }
        let settler = "settle-" + stored.replyID
        do {
            try await claim(session, for: settler)
        } catch {
            return false
        }
        do {
            let settled = try await settleHeld(session)
            await release(session, from: settler)
            return settled
        } catch {
            await release(session, from: settler)
            throw error
        }
    }

    /// Settles the session's interrupted reply, if any, once the caller holds the session
    /// (its reservation here and its claim in a shared store).
    @discardableResult
    func settleHeld(_ session: SessionID) async throws -> Bool {
        guard let stored = try await chat.store.replyEvents(in: session, after: 0), !stored.isFinished,
            try await isGone(stored.replyID, in: session)
        else { return false }
        let events = stored.events
        var text = ""
        var usage: TokenUsage?
        for event in events {
            switch event.event {
            case .delta(let piece): text += piece
            case .usage(let total): usage = total
            default: break
            }
        }
        let now = chat.clock.now()
        let message = NewMessage(
            role: .assistant, content: text.isEmpty ? [] : [.text(text)], status: .partial, usage: usage, createdAt: now
        )
        let final = Self.interruptedEvent(after: events.last?.sequence ?? 0)
        let batch = ReplyEventBatch(
            sessionID: session, replyID: stored.replyID, events: [final], createdAt: now,
            expiresAt: now.addingTimeInterval(settings.resumeGrace.seconds)
        )
        _ = try await chat.store.appendMessages([message], to: session, replyEvents: [batch])
        chat.metrics.replyEnded(outcome: "interrupted")
        logger.warning(
            "Stored an interrupted reply as partial: the server writing it went away",
            metadata: ["session": "\(session)", "reply": "\(stored.replyID)", "characters": "\(text.count)"]
        )
        return true
    }

    /// Whether the reply is running nowhere: not here, and in a shared store not claimed.
    private func isGone(_ replyID: String, in session: SessionID) async throws -> Bool {
        guard reply(in: session) == nil else { return false }
        guard chat.store.isSharedAcrossInstances else { return true }
        return try await !chat.store.isSessionClaimed(session, byReply: replyID, now: chat.clock.now())
    }

    /// The event that ends the events of a reply that stopped without its last one.
    public static func interruptedEvent(after sequence: Int) -> SequencedChatEvent {
        SequencedChatEvent(
            sequence: sequence + 1,
            event: .error(
                code: "reply_interrupted",
                message: "This reply stopped before it finished: the server writing it went away. Send your message again for a whole answer."
            )
        )
    }
}
