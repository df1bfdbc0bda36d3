/// At most one request per interval, process-wide: callers wait their turn, they never fail.
actor ConnpassRateLimiter {
    private let interval: Duration
    private var nextSlot = ContinuousClock.now

    init(interval: Duration = .seconds(1)) {
        self.interval = interval
    }

    /// Waits until this caller may send its request; returns the moment it was given.
    @discardableResult
    func waitTurn() async throws -> ContinuousClock.Instant {
        let now = ContinuousClock.now
        let slot = max(now, nextSlot)
        nextSlot = slot + interval
        if slot > now { try await Task.sleep(until: slot, clock: .continuous) }
        return slot
    }
}
