/// At most one request per interval, process-wide: callers wait their turn, they never fail.
/// A turn is only taken when it is used: a caller cancelled while waiting (the tool's timeout)
/// holds nothing, so a burst of abandoned searches cannot push later ones back.
actor ConnpassRateLimiter {
    private let interval: Duration
    private var lastTurn: ContinuousClock.Instant?

    init(interval: Duration = .seconds(1)) {
        self.interval = interval
    }

    /// Waits until this caller may send its request; returns the moment it was given.
    @discardableResult
    func waitTurn() async throws -> ContinuousClock.Instant {
        while true {
            let now = ContinuousClock.now
            guard let last = lastTurn, now < last + interval else {
                lastTurn = now
                return now
            }
            // Callers woken together take turns one after another: the first takes this one,
            // the others wait again for the next.
            try await Task.sleep(until: last + interval, clock: .continuous)
        }
    }
}
