import Foundation

/// One message of the `application/vnd.amazon.eventstream` format (Bedrock's ConverseStream).
public struct EventStreamMessage: Sendable, Hashable {
    public var headers: [String: EventStreamHeaderValue]
    public var payload: [UInt8]

    /// The `:message-type`, `:event-type` and `:exception-type` headers, when present.
    public var messageType: String? { headers[":message-type"]?.string }
    public var eventType: String? { headers[":event-type"]?.string }
    public var exceptionType: String? { headers[":exception-type"]?.string }
}

/// A header value, in each of the format's ten types.
public enum EventStreamHeaderValue: Sendable, Hashable {
    case bool(Bool)
    case byte(Int8)
    case short(Int16)
    case int(Int32)
    case long(Int64)
    case bytes([UInt8])
    case string(String)
    /// Milliseconds since 1970.
    case timestamp(Int64)
    case uuid([UInt8])

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}

/// Why bytes are not a valid event-stream message.
public struct EventStreamError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case preludeChecksum, messageChecksum, invalidLength, invalidHeader, truncated
    }

    public var kind: Kind
    public var detail: String
    public var description: String { "Malformed event stream: \(detail)" }
}

/// Decodes event-stream messages from bytes as they arrive: append what came, take the
/// messages that are complete. Every length and both CRC32 checksums are verified; a corrupt
/// frame is an error, never a crash.
public struct EventStreamDecoder: Sendable {
    /// AWS's limits: 16 MiB messages, 128 KiB of headers.
    public static let maxMessageLength = 16 * 1024 * 1024
    public static let maxHeadersLength = 128 * 1024

    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// Whether bytes of an unfinished message are waiting.
    public var hasPartialMessage: Bool { start < buffer.count }

    /// The next complete message, `nil` when more bytes are needed.
    public mutating func next() throws(EventStreamError) -> EventStreamMessage? {
        let available = buffer.count - start
        guard available >= 12 else { return nil }
        let totalLength = Int(readUInt32(at: start))
        let headersLength = Int(readUInt32(at: start + 4))
        guard CRC32.checksum(buffer[start..<(start + 8)]) == readUInt32(at: start + 8) else {
            throw EventStreamError(kind: .preludeChecksum, detail: "the prelude checksum does not match")
        }
        guard totalLength >= 16, totalLength <= Self.maxMessageLength, headersLength <= Self.maxHeadersLength,
            headersLength <= totalLength - 16
        else {
            throw EventStreamError(kind: .invalidLength, detail: "lengths \(totalLength)/\(headersLength) are impossible")
        }
        guard available >= totalLength else { return nil }
        let end = start + totalLength
        guard CRC32.checksum(buffer[start..<(end - 4)]) == readUInt32(at: end - 4) else {
            throw EventStreamError(kind: .messageChecksum, detail: "the message checksum does not match")
        }
        let headersStart = start + 12
        let headers = try parseHeaders(headersStart..<(headersStart + headersLength))
        let payload = Array(buffer[(headersStart + headersLength)..<(end - 4)])
        start = end
        if start > 64 * 1024 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        return EventStreamMessage(headers: headers, payload: payload)
    }

    /// Call when the byte stream ended: a partial message left over is an error.
    public func finish() throws(EventStreamError) {
        if hasPartialMessage {
            throw EventStreamError(kind: .truncated, detail: "the stream ended inside a message")
        }
    }

    private func readUInt32(at index: Int) -> UInt32 {
        buffer[index..<(index + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    private func readInteger(at index: Int, size: Int) -> Int64 {
        let unsigned = buffer[index..<(index + size)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let shift = UInt64(64 - size * 8)
        return Int64(bitPattern: unsigned << shift) >> Int64(shift)
    }

    private func parseHeaders(_ range: Range<Int>) throws(EventStreamError) -> [String: EventStreamHeaderValue] {
        var headers: [String: EventStreamHeaderValue] = [:]
        var index = range.lowerBound
        func need(_ count: Int) throws(EventStreamError) {
            guard index + count <= range.upperBound else {
                throw EventStreamError(kind: .invalidHeader, detail: "a header runs past the headers section")
            }
        }
        while index < range.upperBound {
            try need(1)
            let nameLength = Int(buffer[index])
            index += 1
            try need(nameLength + 1)
            guard nameLength > 0, let name = String(validating: buffer[index..<(index + nameLength)], as: UTF8.self) else {
                throw EventStreamError(kind: .invalidHeader, detail: "a header name is empty or not UTF-8")
            }
            index += nameLength
            let type = buffer[index]
            index += 1
            let value: EventStreamHeaderValue
            switch type {
            case 0: value = .bool(true)
            case 1: value = .bool(false)
            case 2, 3, 4, 5, 8:
                let size = [2: 1, 3: 2, 4: 4, 5: 8, 8: 8][Int(type)]!
                try need(size)
                let number = readInteger(at: index, size: size)
                index += size
                switch type {
                case 2: value = .byte(Int8(number))
                case 3: value = .short(Int16(number))
                case 4: value = .int(Int32(number))
                case 5: value = .long(number)
                default: value = .timestamp(number)
                }
            case 6, 7:
                try need(2)
                let length = Int(readInteger(at: index, size: 2) & 0xFFFF)
                index += 2
                try need(length)
                let bytes = Array(buffer[index..<(index + length)])
                index += length
                if type == 6 {
                    value = .bytes(bytes)
                } else {
                    guard let text = String(validating: bytes, as: UTF8.self) else {
                        throw EventStreamError(kind: .invalidHeader, detail: "header \(name) is not UTF-8")
                    }
                    value = .string(text)
                }
            case 9:
                try need(16)
                value = .uuid(Array(buffer[index..<(index + 16)]))
                index += 16
            default:
                throw EventStreamError(kind: .invalidHeader, detail: "header \(name) has unknown type \(type)")
            }
            headers[name] = value
        }
        return headers
    }
}

/// CRC-32 (IEEE 802.3), as the event-stream format checks it.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
