import Foundation
import HTTPTypes
import Hummingbird
import KaiwaAgent
import KaiwaCore
import KaiwaStore

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
                defer { runner.leave(follower) }
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

    /// Replays a reply from the store (it runs, or ran, on another instance), polling for
    /// new events until its last one or until `maxWait` passes.
    static func stored(
        _ first: StoredReplyEvents,
        session: SessionID,
        after sequence: Int,
        store: any ChatStore,
        pollInterval: Duration,
        maxWait: Duration,
        format: some EventStreamFormat
    ) -> Response {
        Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                var batch = first
                var last = sequence
                let deadline = ContinuousClock.now + maxWait
                while true {
                    for event in batch.events where event.sequence > last {
                        try await writer.write(ByteBuffer(string: format.encode(event)))
                        last = event.sequence
                    }
                    if batch.isFinished || ContinuousClock.now > deadline { break }
                    try await Task.sleep(for: pollInterval)
                    guard let next = try await store.replyEvents(in: session, after: last), next.replyID == first.replyID else { break }
                    batch = next
                }
                try await writer.finish(nil)
            }
        )
    }
}
