import Foundation

/// JSON text written into one growing byte buffer. The hot paths (a streamed event per
/// follower, a conversation of a thousand messages) build their JSON with it: no string per
/// field, no joining, and text without characters to escape copied in one piece.
///
/// The caller writes the structure (`raw("{\"id\":")`, `string(id)`, `raw("}")`); the writer
/// gets strings, numbers and dates right.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 128) {
        bytes.reserveCapacity(capacity)
    }

    /// The text written so far.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Forgets the text written so far, keeping the buffer: long text goes out a piece at a
    /// time, each piece copied out before `clear()`, so that no buffer grows large.
    public mutating func clear() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Punctuation, keys and other text that is JSON already, copied as is.
    public mutating func raw(_ json: StaticString) {
        json.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Text that is JSON already (an object written earlier), copied as is.
    public mutating func raw(_ json: String) {
        bytes.append(contentsOf: json.utf8)
    }

    public mutating func integer(_ value: some BinaryInteger) {
        raw(String(value))
    }

    public mutating func bool(_ value: Bool) {
        value ? raw("true") : raw("false")
    }

    /// A number as `JSONEncoder` writes it: whole numbers without a fraction, `null` for
    /// infinities and NaN (which JSON cannot hold).
    public mutating func number(_ value: Double) {
        guard value.isFinite else { return raw("null") }
        if value == value.rounded(), abs(value) < 1e15 { return integer(Int64(value)) }
        raw(String(value))
    }

    /// `value` as a JSON string literal, quotes included. Escapes control characters, quotes,
    /// backslashes, and U+2028/U+2029 (which some JavaScript parsers take for line ends).
    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { appendEscaped($0) }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var copied = 0
        var index = 0
        while index < utf8.count {
            if index + 8 <= utf8.count, let base = utf8.baseAddress,
                !Self.mayNeedEscaping(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            {
                index += 8
                continue
            }
            let byte = utf8[index]
            let escape: StaticString
            var length = 1
            switch byte {
            case UInt8(ascii: "\""): escape = "\\\""
            case UInt8(ascii: "\\"): escape = "\\\\"
            case UInt8(ascii: "\n"): escape = "\\n"
            case UInt8(ascii: "\r"): escape = "\\r"
            case UInt8(ascii: "\t"): escape = "\\t"
            case 0..<0x20: escape = "\\u00"
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
            case 0xE2 where index + 2 < utf8.count && utf8[index + 1] == 0x80 && (utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9):
                escape = utf8[index + 2] == 0xA8 ? "\\u2028" : "\\u2029"
                length = 3
            default:
                index += 1
                continue
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[copied..<index]))
            raw(escape)
            if byte < 0x20, escape.utf8CodeUnitCount == 4 {
                bytes.append(UInt8(ascii: "0") + byte >> 4)
                let low = byte & 0xF
                bytes.append(low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + low - 10)
            }
            index += length
            copied = index
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[copied..<utf8.count]))
    }

    /// Whether any of eight bytes is one that `appendEscaped` looks at: a control character, a
    /// quote, a backslash or 0xE2 (the first byte of U+2028/U+2029). Most text has none, and
    /// is skipped eight bytes at a time.
    private static func mayNeedEscaping(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ value: UInt64) -> Bool { (value &- ones) & ~value & highs != 0 }
        let hasControl = (word &- ones &* 0x20) & ~word & highs != 0
        return hasControl || hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte(word ^ (ones &* 0x5C)) || hasZeroByte(word ^ (ones &* 0xE2))
    }

    /// An array of strings.
    public mutating func strings(_ values: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// `date` as a JSON string `"2026-12-04T08:15:30.123Z"`: UTC, to the nearest millisecond
    /// (as stores keep time), the form `Date.ISO8601FormatStyle(includingFractionalSeconds: true)`
    /// writes, without its cost and without its truncation (it writes a stored .981 as .980).
    public mutating func iso8601(_ date: Date) {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var days = millis >= 0 ? millis / 86_400_000 : (millis - 86_399_999) / 86_400_000
        let inDay = millis - days * 86_400_000
        // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let seconds = inDay / 1000
        bytes.append(UInt8(ascii: "\""))
        if (0...9999).contains(year) { digits(year, 4) } else { integer(year) }
        separated("-", month, 2)
        separated("-", day, 2)
        separated("T", seconds / 3600, 2)
        separated(":", seconds / 60 % 60, 2)
        separated(":", seconds % 60, 2)
        separated(".", inDay % 1000, 3)
        raw("Z\"")
    }

    private mutating func separated(_ separator: Unicode.Scalar, _ value: Int64, _ width: Int) {
        bytes.append(UInt8(ascii: separator))
        digits(value, width)
    }

    /// `value` (0 ≤ value < 10^width) in exactly `width` digits.
    private mutating func digits(_ value: Int64, _ width: Int) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }

    /// `value` as JSON text; objects with their keys sorted.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let bool): self.bool(bool)
        case .number(let number): self.number(number)
        case .string(let string): self.string(string)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                self.value(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let fields):
            bytes.append(UInt8(ascii: "{"))
            for (index, field) in fields.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                string(field.key)
                bytes.append(UInt8(ascii: ":"))
                self.value(field.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Content blocks as JSON text: the same as their `Codable` form.
    public mutating func blocks(_ blocks: [ContentBlock]) {
        bytes.append(UInt8(ascii: "["))
        for (index, block) in blocks.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            switch block {
            case .text(let text):
                raw("{\"type\":\"text\",\"text\":")
                string(text)
            case .toolUse(let id, let name, let input):
                raw("{\"type\":\"tool_use\",\"id\":")
                string(id)
                raw(",\"name\":")
                string(name)
                raw(",\"input\":")
                value(input)
            case .toolResult(let id, let isError, let content):
                raw("{\"type\":\"tool_result\",\"tool_use_id\":")
                string(id)
                raw(",\"is_error\":")
                bool(isError)
                raw(",\"content\":")
                string(content)
            case .attachment(let file):
                raw("{\"type\":\"attachment\",\"attachment\":{\"id\":")
                string(file.id)
                raw(",\"media_type\":")
                string(file.mediaType)
                raw(",\"name\":")
                string(file.name)
                raw(",\"size\":")
                integer(file.size)
                raw("}")
            }
            raw("}")
        }
        bytes.append(UInt8(ascii: "]"))
    }
}
