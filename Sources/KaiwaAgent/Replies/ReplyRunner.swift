import Foundation
import KaiwaCore
import KaiwaStore
import Logging
import ServiceLifecycle
import Synchronization
import Tracing

/// Runs replies in tasks of its own, so that a reply outlives the request that started it:
/// a client that drops its connection can come back and resume, a stop from any request
/// ends it, and shutdown drains it. Every reply is a child task of `run()` (structured
/// concurrency, no detached tasks); transports only start, follow and stop replies.
public final class ReplyRunner: Service, Sendable {
    public let chat: ChatService
    public let settings: ReplySettings
    /// Limits on who may start a reply (`nil`: none).
    private let gate: (any ReplyGate)?
    public let logger: Logger
    private let queue: AsyncStream<LiveReply>
    private let enqueue: AsyncStream<LiveReply>.Continuation
    private let registry = Mutex(Registry())

    private struct Registry {
        /// The running reply of each session, and its finished one until all its events are
        /// in the store (a resume then reads them from there, as on another instance): a
        /// tick of the tidy loop, or the resume grace when the store could not take them.
        var bySession: [SessionID: LiveReply] = [:]
        /// Sessions whose next turn is being accepted (its message stored) but has no reply
        /// yet: a second message meanwhile is refused before it stores anything.
        var accepting: Set<SessionID> = []
        var draining = false
        /// Event writes that failed since the last one that worked.
        var eventWriteFailures = 0
    }

    public init(
        chat: ChatService, settings: ReplySettings = .init(), gate: (any ReplyGate)? = nil, logger: Logger = Logger(label: "kaiwa.replies")
    ) {
        self.chat = chat
        self.settings = settings
        self.gate = gate
        self.logger = logger
        (queue, enqueue) = AsyncStream<LiveReply>.makeStream()
    }

    /// Accepts a user turn and starts its reply. Throws before anything is stored when the
    /// turn is refused: bad input, someone else's session (404, as for a missing one), expired
    /// session, a reply already running in the session (409), a limit of the sender's (429), or
    /// a server that is shutting down (503).
    public func start(_ request: ChatRequest) async throws -> LiveReply {
        let replyID = UUIDString.random()
        if let id = request.sessionID {
            try await checkOwner(of: id, is: request.owner)
            // Checked and reserved at once, so that of two messages sent together only one is stored.
            try registry.withLock { registry in
                try Self.checkAccepting(registry, session: id)
                registry.accepting.insert(id)
            }
        } else if registry.withLock({ $0.draining }) {
            throw Self.shuttingDown
        }
        var reserved = request.sessionID
        defer {
            // A turn refused on the way gives its reservation back (one that started a reply
            // handed it over to the reply above, and another turn may hold it by now).
            if let reserved { _ = registry.withLock { $0.accepting.remove(reserved) } }
        }
        let pass = try await gate?.admitReply(request.subject) ?? nil
        let turn: ChatTurn
        do {
            if let id = request.sessionID {
                try await claim(id, for: replyID)
                try await settleHeld(id)
            }
            turn = try await chat.begin(request)
            if request.sessionID == nil { try await claim(turn.session.id, for: replyID) }
        } catch {
            if let id = request.sessionID { await release(id, from: replyID) }
            await Self.giveBack(pass)
            throw error
        }
        let reply = LiveReply(turn: turn, id: replyID, pass: pass)
        do {
            try registry.withLock { registry in
                registry.accepting.remove(turn.session.id)
                reserved = nil
                try Self.checkAccepting(registry, session: turn.session.id)
                registry.bySession[turn.session.id] = reply
            }
        } catch {
            await release(turn.session.id, from: replyID)
            await Self.giveBack(pass)
            throw error
        }
        if case .terminated = enqueue.yield(reply) {
            // Draining began between the check above and now: nothing will run this reply.
            registry.withLock { registry in
                if registry.bySession[turn.session.id] === reply { registry.bySession[turn.session.id] = nil }
            }
            await release(turn.session.id, from: replyID)
            await Self.giveBack(pass)
            throw Self.shuttingDown
        }
        return reply
    }

    /// Gives a pass back unused, even from a cancelled request (its slot would be held for a lease).
    private static func giveBack(_ pass: ReplyPass?) async {
        guard let pass else { return }
        _ = try? await withoutCancellation { await pass.finish(nil) }
    }

    /// Someone else's session answers as a missing one would, before its state (a reply
    /// running in it) can tell that it exists. Where instances share the store, the stored
    /// owner is read; the store's write checks it again.
    private func checkOwner(of session: SessionID, is owner: String?) async throws {
        if let running = reply(in: session), running.turn.session.owner != owner { throw KaiwaError.sessionNotFound(session) }
        if chat.store.isSharedAcrossInstances, let stored = try await chat.store.session(session), stored.owner != owner {
            throw KaiwaError.sessionNotFound(session)
        }
    }

    /// Claims the session in a store that several instances share, so that no instance starts
    /// a second reply in it.
    func claim(_ session: SessionID, for replyID: String) async throws {
        guard chat.store.isSharedAcrossInstances else { return }
        let now = chat.clock.now()
        guard try await chat.store.claimSession(session, forReply: replyID, until: now.addingTimeInterval(settings.sessionLease.seconds), now: now)
        else { throw Self.busy(session) }
    }

    func release(_ session: SessionID, from replyID: String) async {
        guard chat.store.isSharedAcrossInstances else { return }
        do {
            // Even for a reply cancelled at shutdown: the claim would otherwise block the session for a lease.
            try await withoutCancellation { [store = chat.store] in try await store.releaseSession(session, fromReply: replyID) }
        } catch {
            logger.warning("Could not release the session; its claim runs out by itself", metadata: ["session": "\(session)", "error": "\(error)"])
        }
    }

    private static func busy(_ session: SessionID) -> KaiwaError {
        KaiwaError(.conflict, "A reply is still being written in session \(session). Wait for it or stop it first.")
    }

    /// Reserves a session with no reply for settling its interrupted one; `false` when a turn
    /// or a reply holds it.
    func reserveForSettling(_ session: SessionID) -> Bool {
        registry.withLock { registry in
            guard registry.bySession[session] == nil, !registry.accepting.contains(session) else { return false }
            registry.accepting.insert(session)
            return true
        }
    }

    func endSettling(_ session: SessionID) {
        _ = registry.withLock { $0.accepting.remove(session) }
    }

    private static func checkAccepting(_ registry: Registry, session: SessionID) throws {
        if registry.draining { throw shuttingDown }
        if registry.accepting.contains(session) { throw busy(session) }
        if let running = registry.bySession[session], !running.isFinished { throw busy(session) }
    }

    private static let shuttingDown = KaiwaError(.serviceUnavailable, "The server is shutting down. Please try again in a moment.")

    /// The session's running reply, or its finished one while some of its events are only in memory.
    public func reply(in session: SessionID) -> LiveReply? {
        registry.withLock { $0.bySession[session] }
    }

    /// Stops the session's reply wherever it runs: at once when it runs here, otherwise by a
    /// stop request in the store that the instance running it picks up within
    /// `stopCheckInterval`. `false` when the session has no running reply.
    public func requestStop(session: SessionID) async throws -> Bool {
        if let local = reply(in: session) {
            guard !local.isFinished else { return false }
            local.stop()
            return true
        }
        guard let stored = try await chat.store.replyEvents(in: session, after: 0), !stored.isFinished else { return false }
        let expiry = chat.clock.now().addingTimeInterval(settings.maxReplyTime.seconds)
        try await chat.store.requestStop(ofReply: stored.replyID, in: session, expiresAt: expiry)
        logger.info("Stop requested for a reply running elsewhere", metadata: ["session": "\(session)", "reply": "\(stored.replyID)"])
        return true
    }

    /// Stops the running replies for which another instance stored a stop request.
    private func stopRepliesStoppedElsewhere(_ replies: [LiveReply]) async {
        await withDiscardingTaskGroup { group in
            for reply in replies {
                group.addTask {
                    do {
                        if try await self.chat.store.isStopRequested(ofReply: reply.id, in: reply.sessionID) {
                            self.logger.info("Stopping a reply as requested through another instance", metadata: ["session": "\(reply.sessionID)"])
                            reply.stop()
                        }
                    } catch {
                        self.logger.warning("Could not look for stop requests", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }

    /// Extends the running replies' claims on their sessions.
    private func renewClaims(of replies: [LiveReply]) async {
        await withDiscardingTaskGroup { group in
            for reply in replies {
                group.addTask {
                    do {
                        try await self.claim(reply.sessionID, for: reply.id)
                    } catch {
                        self.logger.warning("Could not renew a reply's claim on its session", metadata: ["session": "\(reply.sessionID)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    /// Ends `follower`'s following. Under `cancelOnDisconnect`, a reply nobody follows any
    /// more is stopped.
    public func leave(_ follower: ReplyFollower) {
        follower.leave()
        let reply = follower.reply
        if settings.cancelOnDisconnect && reply.followerCount == 0 && !reply.isFinished {
            logger.info("Client left; stopping its reply", metadata: ["session": "\(reply.sessionID)"])
            reply.stop()
        }
    }

    /// Stops taking new replies; running ones get the drain period to finish, then are
    /// stopped and stored as partial.
    public func beginDraining() {
        let first = registry.withLock { registry in
            defer { registry.draining = true }
            return !registry.draining
        }
        if first {
            logger.info("Draining replies", metadata: ["drain_period": "\(settings.drainPeriod)"])
            enqueue.finish()
        }
    }

    /// Runs `operation` (a transport following a reply) so that a graceful shutdown of the
    /// server it runs in starts draining replies. The HTTP server shuts down before the
    /// services added after it, and waits for open requests, so the signal must come from
    /// inside those requests.
    public func following<T: Sendable>(_ operation: () async throws -> T) async rethrows -> T {
        try await withGracefulShutdownHandler(operation: operation, onGracefulShutdown: { self.beginDraining() })
    }

    /// Whether the runner has stopped taking new replies (shutdown began).
    public var isDraining: Bool { registry.withLock { $0.draining } }

    public var runningReplies: [LiveReply] {
        registry.withLock { $0.bySession.values.filter { !$0.isFinished } }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.keepRepliesTidy() }
                for await reply in queue {
                    group.addTask { await self.execute(reply) }
                }
                // Draining: let running replies finish for the drain period, then stop them.
                let deadline = ContinuousClock.now + settings.drainPeriod
                while !runningReplies.isEmpty && ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(20))
                }
                for reply in runningReplies { reply.stop() }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.beginDraining()
        }
        // Draining can begin before this service is told to shut down (see `following`);
        // a service that returns early would fail the whole service group.
        try? await gracefulShutdown()
    }

    /// Generates one reply until it ends or is stopped (the tidy loop stops replies that run
    /// out of time).
    private func execute(_ reply: LiveReply) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let outcome = await GenAISpans.invokeAgent(
                    agent: reply.turn.profile.name, session: reply.sessionID, reply: reply.id, context: reply.tracingContext
                ) { span in
                    let outcome = await self.generate(reply)
                    if let usage = outcome.usage { GenAISpans.record(usage, on: span) }
                    span.attributes["kaiwa.reply.status"] = outcome.status.rawValue
                    return outcome
                }
                if outcome.message != nil { reply.markFinalWriteStored() }
                if let pass = reply.pass {
                    // Given back even when the reply was stopped: the slot and the tokens must be accounted for.
                    _ = try? await withoutCancellation { await pass.finish(outcome.usage) }
                }
                // The client has its answer by now; a new conversation then gets its title.
                if self.chat.settings.modelTitles, reply.turn.isFirstReply, outcome.status == .complete, outcome.message != nil {
                    await SessionTitler(store: self.chat.store, logger: self.logger).retitle(
                        reply.turn.session, question: reply.turn.userMessage.content.plainText, answer: outcome.text, model: reply.turn.model
                    )
                }
            }
            group.addTask { await reply.stopSignal.wait() }
            await group.next()
            group.cancelAll()
        }
        if !reply.isFinished { await release(reply.sessionID, from: reply.id) }
    }

    /// Runs the reply's turn, publishing each event to its followers as it comes.
    private func generate(_ reply: LiveReply) async -> ReplyOutcome {
        let clock = chat.clock
        return await chat.run(
            reply.turn,
            replyEvents: { final in self.batches(for: reply, ending: final) },
            emit: { event in
                if case .usage(let total) = event.event { reply.latestUsage = total }
                // Released before the client hears the end, so that its next message finds the session
                // free, its slot given back and its tokens counted.
                if event.event.isTerminal {
                    await self.release(reply.sessionID, from: reply.id)
                    if let pass = reply.pass { _ = try? await withoutCancellation { await pass.finish(reply.latestUsage) } }
                }
                reply.publish(event, at: clock.now(), stored: event.event.isTerminal)
                // Stored at once where instances share the store, so that every one knows the reply runs (and can stop it).
                if event.sequence == 1 && !event.event.isTerminal && self.chat.store.isSharedAcrossInstances {
                    await self.persistEvents(of: [reply])
                }
            }
        )
    }

    /// The reply's events not yet stored, plus its final one: stored with the reply message.
    private func batches(for reply: LiveReply, ending final: SequencedChatEvent) -> [ReplyEventBatch] {
        let now = chat.clock.now()
        let expiry = now.addingTimeInterval(settings.maxReplyTime.seconds + settings.resumeGrace.seconds)
        return [
            ReplyEventBatch(
                sessionID: reply.sessionID, replyID: reply.id, events: reply.takeUnflushed() + [final], createdAt: now,
                expiresAt: expiry
            )
        ]
    }

    /// Writes the replies' new events to the store, so that a client can resume from any
    /// instance. A failed write is logged; followers on this instance still get every event.
    private func persistEvents(of replies: [LiveReply]) async {
        let now = chat.clock.now()
        let expiry = now.addingTimeInterval(settings.maxReplyTime.seconds + settings.resumeGrace.seconds)
        let batches = replies.compactMap { reply -> (LiveReply, ReplyEventBatch)? in
            let events = reply.takeUnflushed()
            guard !events.isEmpty else { return nil }
            return (reply, ReplyEventBatch(sessionID: reply.sessionID, replyID: reply.id, events: events, createdAt: now, expiresAt: expiry))
        }
        guard !batches.isEmpty else { return }
        do {
            try await chat.metrics.storeCall("append_reply_events") { try await chat.store.appendReplyEvents(batches.map(\.1)) }
        } catch {
            // Tried again four times a second while the store is down: logged once in a while.
            let failures = registry.withLock { registry in
                registry.eventWriteFailures += 1
                return registry.eventWriteFailures
            }
            if failures == 1 || failures % 240 == 0 {
                logger.error(
                    "Could not store reply events; trying again with the next ones",
                    metadata: ["error": "\(error)", "failures_in_a_row": "\(failures)"]
                )
            }
            for (reply, batch) in batches { reply.returnUnflushed(batch.events) }
            return
        }
        registry.withLock { $0.eventWriteFailures = 0 }
    }

    /// Forgets finished replies whose events are all in the store, and those the store could
    /// not take once their resume grace has passed.
    private func forgetStored(_ finished: [LiveReply]) {
        guard !finished.isEmpty else { return }
        let cutoff = chat.clock.now().addingTimeInterval(-settings.resumeGrace.seconds)
        let forgettable = finished.filter { reply in
            reply.isStoredCompletely || (reply.finishedAt.map { $0 < cutoff } ?? false)
        }
        registry.withLock { registry in
            for reply in forgettable where registry.bySession[reply.sessionID] === reply {
                registry.bySession[reply.sessionID] = nil
            }
        }
    }

    /// Four times a second: new events stored, heartbeats for quiet replies, replies past the
    /// maximum reply time stopped, finished replies forgotten once the store has all their
    /// events; every `stopCheckInterval`, stop requests sent through other instances honoured;
    /// every third of `sessionLease`, the running replies' claims on their sessions renewed.
    private func keepRepliesTidy() async {
        var lastStopCheck = ContinuousClock.now
        var lastRenewal = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.persistInterval)
            let (running, finished) = registry.withLock { registry in
                let replies = Array(registry.bySession.values)
                return (replies.filter { !$0.isFinished }, replies.filter(\.isFinished))
            }
            for reply in running {
                reply.heartbeatIfQuiet(for: settings.heartbeatInterval)
                if ContinuousClock.now - reply.startedAt > settings.maxReplyTime {
                    logger.warning("Reply ran out of time; stopping it", metadata: ["session": "\(reply.sessionID)"])
                    reply.stop()
                }
            }
            // Finished replies have events to write only when an earlier write of them failed.
            await persistEvents(of: running + finished)
            forgetStored(finished)
            if !running.isEmpty && ContinuousClock.now - lastStopCheck >= settings.stopCheckInterval {
                lastStopCheck = ContinuousClock.now
                await stopRepliesStoppedElsewhere(running)
            }
            if !running.isEmpty && ContinuousClock.now - lastRenewal >= settings.sessionLease / 3 {
                lastRenewal = ContinuousClock.now
                await renewClaims(of: running)
            }
        }
    }
}
