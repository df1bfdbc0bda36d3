#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Identifiers for sessions, messages and replies.
public enum UUIDString {
    /// A lowercase UUID version 7: the millisecond it was made, then 74 random bits (RFC 9562).
    ///
    /// Time-ordered rather than random (version 4) because these are keys: a new session's
    /// rows go to the end of SQLite's indexes instead of a random page each, which cut the
    /// data written per request several times. 74 random bits keep them unguessable.
    /// (Foundation's `UUID()` also opens `/dev/urandom` on every call on Linux.)
    public static func random() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let millis = UInt64(max(0, now.tv_sec)) &* 1000 &+ UInt64(max(0, now.tv_nsec)) / 1_000_000
        var generator = SystemRandomNumberGenerator()
        let random = generator.next() as UInt64
        let randomA = UInt16(truncatingIfNeeded: generator.next() as UInt64)
        // Bytes 0-5: milliseconds; 6-7: version 7 and 12 random bits; 8-15: variant and 62 random bits.
        let high = (millis << 16) | 0x7000 | UInt64(randomA & 0x0FFF)
        let low = (random & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { text in
            var position = 0
            for index in 0..<16 {
                let byte = UInt8(truncatingIfNeeded: (index < 8 ? high : low) >> ((7 - index % 8) * 8))
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    text[position] = UInt8(ascii: "-")
                    position += 1
                }
                text[position] = hexDigit(byte >> 4)
                text[position + 1] = hexDigit(byte & 0x0F)
                position += 2
            }
            return position
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}
