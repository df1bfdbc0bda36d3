import Foundation

/// A stored row that cannot be read back as what it should be. Reported as an internal error:
/// the client gets a generic 500, the log gets this description.
public struct StoreCorruption: Error, CustomStringConvertible {
    public var row: String
    public var problem: String
    public var description: String { "Stored row \(row) is unreadable: \(problem)" }

    public init(row: String, problem: String) {
        self.row = row
        self.problem = problem
    }
}

extension Date {
    /// Whole milliseconds since 1970, the unit every store keeps time in.
    public var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    public init(millis: Int64) {
        self.init(timeIntervalSince1970: Double(millis) / 1000)
    }
}
