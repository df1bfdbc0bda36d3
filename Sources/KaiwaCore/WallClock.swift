import Foundation

/// Where "now" comes from. Expiry and retention read it through this seam so that tests can
/// move time forward instead of waiting.
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The real clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}
