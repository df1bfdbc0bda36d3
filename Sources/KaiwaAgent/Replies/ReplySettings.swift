/// How replies behave beyond one request: how long they may run, what a departed client
/// means, how long a finished reply can be resumed, and how shutdown treats running ones.
public struct ReplySettings: Sendable, Hashable {
    /// A reply running longer than this is stopped (and stored as `partial`).
    public var maxReplyTime: Duration
    /// When `true`, a reply whose last client disconnected is stopped; otherwise it runs on so
    /// that the client can resume it.
    public var cancelOnDisconnect: Bool
    /// How long a finished reply's events can still be resumed.
    public var resumeGrace: Duration
    /// On shutdown, how long running replies may finish before they are stopped.
    public var drainPeriod: Duration
    /// A follower that got nothing for this long gets a heartbeat (an SSE comment).
    public var heartbeatInterval: Duration
    /// How often a running reply's new events are written to the store for resuming.
    public var persistInterval: Duration
    /// How often running replies look in the store for a stop sent to another instance: the
    /// longest such a stop waits, plus one store read.
    public var stopCheckInterval: Duration
    /// How long a running reply's claim on its session lasts in the store; it is renewed at a
    /// third of this while the reply runs. A reply whose instance died blocks its session for
    /// at most this long.
    public var sessionLease: Duration

    public init(
        maxReplyTime: Duration = .seconds(300),
        cancelOnDisconnect: Bool = false,
        resumeGrace: Duration = .seconds(300),
        drainPeriod: Duration = .seconds(10),
        heartbeatInterval: Duration = .seconds(15),
        persistInterval: Duration = .milliseconds(250),
        stopCheckInterval: Duration = .seconds(1),
        sessionLease: Duration = .seconds(30)
    ) {
        self.maxReplyTime = maxReplyTime
        self.cancelOnDisconnect = cancelOnDisconnect
        self.resumeGrace = resumeGrace
        self.drainPeriod = drainPeriod
        self.heartbeatInterval = heartbeatInterval
        self.persistInterval = persistInterval
        self.stopCheckInterval = stopCheckInterval
        self.sessionLease = sessionLease
    }
}
