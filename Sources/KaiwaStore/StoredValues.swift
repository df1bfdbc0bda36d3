import Foundation
import KaiwaCore

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
    /// Milliseconds since 1970, the unit every store keeps time in. Rounded to the nearest:
    /// `Date(millis: x)` holds x / 1000 as seconds since 2001 in binary, which can come back
    /// as x − 0.0000001; rounded down it read back as x − 1 (a session list's cursor then
    /// skipped sessions updated in the same millisecond as the page's last).
    public var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    public init(millis: Int64) {
        self.init(timeIntervalSince1970: Double(millis) / 1000)
    }
}

/// Reads a stored message's content blocks (their JSON, as `JSONText.encode` wrote it).
public enum StoredContent {
    public static func decode(_ json: String, row: String) throws -> [ContentBlock] {
        var contiguous = json
        return try contiguous.withUTF8 { try decode(utf8: $0, row: row) }
    }

    /// `decode(_:row:)` of the JSON's bytes (a stored row's, read in place).
    public static func decode(utf8 json: UnsafeBufferPointer<UInt8>, row: String) throws -> [ContentBlock] {
        // Most messages are one text block; those are read without a JSON decoder.
        if let text = JSONText.singleText(utf8: json) { return [.text(text)] }
        do {
            return try JSONDecoder().decode([ContentBlock].self, from: Data(buffer: json))
        } catch {
            throw StoreCorruption(row: row, problem: "content is not valid content blocks: \(error)")
        }
    }
}
