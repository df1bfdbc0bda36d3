import Foundation

/// Random identifiers for sessions, messages and requests.
public enum UUIDString {
    /// A lowercase UUID v4 string.
    public static func random() -> String {
        UUID().uuidString.lowercased()
    }
}
