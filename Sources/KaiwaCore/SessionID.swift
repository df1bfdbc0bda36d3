/// A validated conversation id: 1–128 characters of ASCII letters, digits, `-` and `_`.
///
/// Every id that arrives from outside (body, header, path) passes through here before it
/// reaches a store or a log line.
public struct SessionID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// The longest id a client may choose.
    public static let maxLength = 128
    /// The longest id that can be stored: AgentCore Runtime's session ids go up to 256.
    public static let maxStoredLength = 256

    public init(validating raw: String, maxLength: Int = SessionID.maxLength) throws(KaiwaError) {
        guard (1...maxLength).contains(raw.utf8.count),
            raw.utf8.allSatisfy(Self.isAllowed)
        else {
            throw KaiwaError(
                .invalidSessionID,
                "A session id must be 1 to \(maxLength) characters of letters, digits, '-' or '_'."
            )
        }
        self.rawValue = raw
    }

    /// A new random id (a lowercase UUID, as browsers make with `crypto.randomUUID()`).
    public static func random() -> SessionID {
        SessionID(trusted: UUIDString.random())
    }

    /// For ids read back from the store, which were validated on the way in.
    public init(trusted raw: String) {
        self.rawValue = raw
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        self = try SessionID(validating: raw)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default:
            false
        }
    }
}
