import HTTPTypes
import Hummingbird
import KaiwaAgent
import KaiwaCore
import KaiwaStore

/// Resuming and stopping a session's reply:
/// `GET /api/sessions/{id}/stream` (with `Last-Event-ID` or `?last_event_id=`) and
/// `POST /api/sessions/{id}/stop`.
struct ReplyControlRoutes<Context: SubjectRequestContext> {
    let runner: ReplyRunner
    let store: any ChatStore

    struct StopResult: Encodable {
        /// Whether a running reply (on this instance or another) was asked to stop.
        var stopped: Bool
    }

    func add(to router: Router<Context>) {
        router.get("/api/sessions/:id/stream") { request, context in
            let id = try SessionID(validating: context.parameters.get("id") ?? "", maxLength: SessionID.maxStoredLength)
            let after = try Self.lastEventID(of: request)
            try await checkOwner(of: id, context: context)
            if let reply = runner.reply(in: id) {
                guard reply.followerCount < LiveReply.maxFollowers else {
                    throw KaiwaError(
                        .rateLimited, "\(LiveReply.maxFollowers) clients already follow this reply; try again when one has left.",
                        retryAfterSeconds: 1
                    )
                }
                return ReplyStreamResponse.live(reply, after: after, runner: runner, format: KaiwaSSEFormat())
            }
            guard let stored = try await store.replyEvents(in: id, after: after) else {
                throw KaiwaError.notFound("There is no reply to resume in session \(id).")
            }
            return ReplyStreamResponse.stored(
                stored, session: id, after: after, runner: runner, format: KaiwaSSEFormat()
            )
        }
        router.post("/api/sessions/:id/stop") { _, context in
            let id = try SessionID(validating: context.parameters.get("id") ?? "", maxLength: SessionID.maxStoredLength)
            // Nothing to stop in a session that is not there (yet: a page may ask before its
            // first message arrives) or not the caller's; both answer alike.
            do {
                try await checkOwner(of: id, context: context)
            } catch let error as KaiwaError where error.code == .notFound {
                return try JSONResponse.make(StopResult(stopped: false))
            }
            return try JSONResponse.make(StopResult(stopped: try await runner.requestStop(session: id)))
        }
    }

    /// Someone else's session is answered as a missing one: no resuming, no stopping.
    private func checkOwner(of id: SessionID, context: Context) async throws {
        let owner = context.subject.owner
        if let reply = runner.reply(in: id) {
            guard reply.turn.session.owner == owner else { throw KaiwaError.sessionNotFound(id) }
            return
        }
        guard try await store.session(id, ownedBy: owner) != nil else { throw KaiwaError.sessionNotFound(id) }
    }

    /// The last event the client saw: the `Last-Event-ID` header (as browsers send it when
    /// they reconnect) or the `last_event_id` query parameter; 0 to replay everything.
    static func lastEventID(of request: Request) throws -> Int {
        let raw = request.headers[HTTPField.Name("Last-Event-ID")!] ?? request.uri.queryParameters["last_event_id"].map(String.init)
        guard let raw, !raw.isEmpty else { return 0 }
        guard let value = Int(raw), value >= 0 else {
            throw KaiwaError.badRequest("`Last-Event-ID` must be the number of the last event received.")
        }
        return value
    }
}
