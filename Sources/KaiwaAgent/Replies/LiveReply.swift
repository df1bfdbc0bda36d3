import Foundation
import KaiwaCore
import KaiwaStore
import Synchronization
import Tracing

/// What a follower of a reply receives: its events, and a heartbeat when nothing happened
/// for a while (SSE sends it as a comment so that proxies keep the connection open).
public enum ReplyFrame: Sendable, Hashable {
    case event(SequencedChatEvent)
    case heartbeat
}

/// A reply that is being generated (or just was): every event it produced so far, and the
/// clients following it. A client that lost its connection subscribes again after the last
/// event it saw and gets the rest, missing nothing and repeating nothing.
public final class LiveReply: Sendable {
    public let id: String
    public let turn: ChatTurn
    let startedAt = ContinuousClock.now
    public var sessionID: SessionID { turn.session.id }
    let stopSignal = StopSignal()

    private struct State {
        var events: [SequencedChatEvent] = []
        var finishedAt: Date?
        var lastActivity = ContinuousClock.now
        /// Events not yet written to the store.
        var unflushed: [SequencedChatEvent] = []
        /// Whether the reply's final write (its message and last events) reached the store.
        var finalWriteStored = false
        var followers: [Int: AsyncStream<ReplyFrame>.Continuation] = [:]
        /// Followers that want only the terminal event (they read the rest from `eventsSoFar`).
        var endOnlyFollowers: Set<Int> = []
        var nextFollowerID = 0
        var latestUsage: TokenUsage?
    }

    private let state = Mutex(State())

    /// How many frames a follower may fall behind the reply (a client that stopped reading)
    /// before it is let go: its stream ends, and it can resume from the store after the last
    /// event it saw. Without a bound, each such client held every later event in memory.
    public static let followerLag = 1024
    /// How many clients may follow one reply at once; resuming beyond that is refused.
    public static let maxFollowers = 32

    /// What the reply's sender was admitted with; given back when the reply ends.
    let pass: ReplyPass?
    /// The trace of the request that started the reply: the reply runs in the runner's task,
    /// and its spans belong under that request's.
    let tracingContext: ServiceContext

    init(turn: ChatTurn, id: String = UUIDString.random(), pass: ReplyPass? = nil, tracingContext: ServiceContext = .current ?? .topLevel) {
        self.pass = pass
        self.tracingContext = tracingContext
        self.id = id
        self.turn = turn
    }

    /// The model's token usage so far, as its last `usage` event said (the runner counts it against the sender's quota).
    var latestUsage: TokenUsage? {
        get { state.withLock { $0.latestUsage } }
        set { state.withLock { $0.latestUsage = newValue } }
    }

    /// Whether the reply has produced its last event.
    public var isFinished: Bool { state.withLock { $0.finishedAt != nil } }

    var finishedAt: Date? { state.withLock { $0.finishedAt } }

    /// Whether every event of the finished reply is in the store, so that a resume can be
    /// served from there and the reply need not be kept in memory.
    var isStoredCompletely: Bool {
        state.withLock { $0.finishedAt != nil && $0.finalWriteStored && $0.unflushed.isEmpty }
    }

    /// Records that the reply's final write reached the store.
    func markFinalWriteStored() {
        state.withLock { $0.finalWriteStored = true }
    }

    /// The number of clients following the reply right now.
    public var followerCount: Int { state.withLock { $0.followers.count } }

    /// Starts following the reply: the events after `sequence` (0 for all), then the live
    /// rest, ending after the terminal event. With `endOnly`, the follower gets only the
    /// terminal event (a transport that answers once reads the rest from `eventsSoFar`, and
    /// is not woken for every delta). Call `leave()` on the follower when done.
    public func follow(after sequence: Int = 0, endOnly: Bool = false) -> ReplyFollower {
        let (id, stream) = state.withLock { state -> (Int, AsyncStream<ReplyFrame>) in
            let id = state.nextFollowerID
            state.nextFollowerID += 1
            let replay = state.events.filter { $0.sequence > sequence && (!endOnly || $0.event.isTerminal) }
            let (stream, continuation) = AsyncStream<ReplyFrame>.makeStream(bufferingPolicy: .bufferingOldest(replay.count + Self.followerLag))
            for event in replay { continuation.yield(.event(event)) }
            if state.finishedAt != nil {
                continuation.finish()
            } else {
                state.followers[id] = continuation
                if endOnly { state.endOnlyFollowers.insert(id) }
            }
            return (id, stream)
        }
        return ReplyFollower(reply: self, id: id, frames: stream)
    }

    func removeFollower(_ id: Int) {
        let continuation = state.withLock { state in
            state.endOnlyFollowers.remove(id)
            return state.followers.removeValue(forKey: id)
        }
        continuation?.finish()
    }

    /// Hands `event` to the followers. `stored` says the event is already in the store.
    func publish(_ event: SequencedChatEvent, at time: Date, stored: Bool = false) {
        let isTerminal = event.event.isTerminal
        let followers = state.withLock { state -> [(id: Int, continuation: AsyncStream<ReplyFrame>.Continuation)] in
            state.events.append(event)
            if !stored { state.unflushed.append(event) }
            state.lastActivity = .now
            if isTerminal { state.finishedAt = time }
            return state.followers.filter { isTerminal || !state.endOnlyFollowers.contains($0.key) }.map { ($0.key, $0.value) }
        }
        for follower in followers {
            if case .dropped = follower.continuation.yield(.event(event)) { removeFollower(follower.id) }
            if isTerminal { follower.continuation.finish() }
        }
    }

    /// Sends a heartbeat to the followers when the reply has been quiet for `quietPeriod`.
    func heartbeatIfQuiet(for quietPeriod: Duration) {
        let followers = state.withLock { state -> [(id: Int, continuation: AsyncStream<ReplyFrame>.Continuation)] in
            guard state.finishedAt == nil, ContinuousClock.now - state.lastActivity >= quietPeriod else { return [] }
            state.lastActivity = .now
            return state.followers.map { ($0.key, $0.value) }
        }
        for follower in followers {
            if case .dropped = follower.continuation.yield(.heartbeat) { removeFollower(follower.id) }
        }
    }

    /// Takes the events that still have to be written to the store.
    func takeUnflushed() -> [SequencedChatEvent] {
        state.withLock { state in
            defer { state.unflushed.removeAll() }
            return state.unflushed
        }
    }

    /// Gives back events whose write failed, to be written with the next ones.
    func returnUnflushed(_ events: [SequencedChatEvent]) {
        state.withLock { state in state.unflushed.insert(contentsOf: events, at: 0) }
    }

    /// Every event so far, in order.
    public var eventsSoFar: [SequencedChatEvent] { state.withLock { $0.events } }

    /// Asks the reply to stop; it ends with a `done` event that says it was stopped.
    public func stop() {
        stopSignal.fire()
    }
}

/// One client following a reply.
public struct ReplyFollower: Sendable {
    public let reply: LiveReply
    let id: Int
    /// The reply's frames for this client.
    public let frames: AsyncStream<ReplyFrame>

    /// Stops following; the reply itself goes on (unless it is set to stop when nobody follows).
    public func leave() {
        reply.removeFollower(id)
    }
}

/// A one-shot signal a reply's task waits on; `wait()` also returns when the task is cancelled.
final class StopSignal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func fire() {
        continuation.yield()
        continuation.finish()
    }

    func wait() async {
        for await _ in stream { return }
    }
}
