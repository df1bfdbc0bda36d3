import Foundation
import HTTPTypes
import Hummingbird
import KaiwaAgent
import KaiwaCore
import KaiwaStore
import Logging

/// Streams a reply's events as `text/event-stream`, with the headers that keep proxies from
/// buffering. A client that goes away only stops following; the reply goes on (unless the
/// server is set to cancel on disconnect) and can be resumed.
enum ReplyStreamResponse {
    static var headers: HTTPFields {
        [
            .contentType: "text/event-stream; charset=utf-8",
            .cacheControl: "no-cache",
            HTTPField.Name("X-Accel-Buffering")!: "no",
        ]
    }

    /// Follows a reply running on this instance.
    static func live(_ reply: LiveReply, after sequence: Int, runner: ReplyRunner, format: some EventStreamFormat) -> Response {
        Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                let follower = reply.follow(after: sequence)
                runner.chat.metrics.stream("sse", opened: true)
                defer {
                    runner.leave(follower)
                    runner.chat.metrics.stream("sse", opened: false)
                }
                try await runner.following {
                    for await frame in follower.frames {
                        switch frame {
                        case .event(let event):
                            try await writer.write(ByteBuffer(string: format.encode(event)))
                        case .heartbeat:
                            if let heartbeat = format.heartbeat { try await writer.write(ByteBuffer(string: heartbeat)) }
                        }
                    }
                }
                try await writer.finish(nil)
            }
        )
    }

    /// Replays a reply from the store: one that runs, or ran, on another instance, or one
    /// whose instance went away before it finished. New events are polled for until the
    /// reply's last one. A reply that is no longer running anywhere (in a shared store, no
    /// instance holds its session's claim; otherwise, this instance is not running it) ends
    /// the stream with a `reply_interrupted` error instead of leaving the client waiting.
    static func stored(
        _ first: StoredReplyEvents,
        session: SessionID,
        after sequence: Int,
        runner: ReplyRunner,
        format: some EventStreamFormat
    ) -> Response {
        Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                var batch = first
                var last = sequence
                let (store, settings, clock) = (runner.chat.store, runner.settings, runner.chat.clock)
                runner.chat.metrics.stream("sse", opened: true)
                defer { runner.chat.metrics.stream("sse", opened: false) }
                let deadline = ContinuousClock.now + settings.maxReplyTime
                var nextClaimCheck = ContinuousClock.now
                while true {
                    for event in batch.events where event.sequence > last {
                        try await writer.write(ByteBuffer(string: format.encode(event)))
                        last = event.sequence
                    }
                    if batch.isFinished { break }
                    var running = ContinuousClock.now < deadline
                    if running && ContinuousClock.now >= nextClaimCheck {
                        running = store.isSharedAcrossInstances
                        if running { running = try await store.isSessionClaimed(session, byReply: first.replyID, now: clock.now()) }
                        nextClaimCheck = ContinuousClock.now + settings.stopCheckInterval
                    }
                    if !running {
                        // Stored as partial, with its last event, so that the history shows it too.
                        do {
                            try await runner.settleInterruptedReply(in: session)
                        } catch {
                            runner.logger.warning("Could not store an interrupted reply", metadata: ["session": "\(session)", "error": "\(error)"])
                        }
                        // Its last events may have been stored since they were read.
                        if let final = try await store.replyEvents(in: session, after: last), final.replyID == first.replyID {
                            for event in final.events where event.sequence > last {
                                try await writer.write(ByteBuffer(string: format.encode(event)))
                                last = event.sequence
                            }
                            if final.isFinished { break }
                        }
                        try await writer.write(ByteBuffer(string: format.encode(ReplyRunner.interruptedEvent(after: last))))
                        break
                    }
                    try await Task.sleep(for: settings.persistInterval)
                    guard let next = try await store.replyEvents(in: session, after: last), next.replyID == first.replyID else { break }
                    batch = next
                }
                try await writer.finish(nil)
            }
        )
    }
}
