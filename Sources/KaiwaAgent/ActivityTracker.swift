import Foundation
import KaiwaCore
import Synchronization

/// Counts the replies being generated, for AgentCore's `/ping`: `HealthyBusy` while any
/// runs, `Healthy` otherwise, with the time the status last changed.
public final class ActivityTracker: Sendable {
    public struct Status: Sendable, Equatable {
        public var activeReplies: Int
        /// When the status last flipped between idle and busy (or the tracker was made).
        public var lastChange: Date
        public var isBusy: Bool { activeReplies > 0 }
    }

    private let state: Mutex<Status>
    private let clock: any WallClock

    public init(clock: any WallClock) {
        self.clock = clock
        self.state = Mutex(Status(activeReplies: 0, lastChange: clock.now()))
    }

    public var status: Status { state.withLock { $0 } }

    func replyStarted() {
        let now = clock.now()
        state.withLock { status in
            if status.activeReplies == 0 { status.lastChange = now }
            status.activeReplies += 1
        }
    }

    func replyEnded() {
        let now = clock.now()
        state.withLock { status in
            status.activeReplies -= 1
            if status.activeReplies == 0 { status.lastChange = now }
        }
    }
}
