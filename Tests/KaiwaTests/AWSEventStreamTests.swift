import Foundation
import KaiwaAWS
import Testing

/// Event-stream frames built from the format's definition, decoded by botocore as the oracle
/// (regenerate with `python3 scripts/aws-fixtures/make_eventstream_frames.py`).
struct AWSEventStreamTests {
    struct Frame: Decodable, CustomTestStringConvertible {
        var name: String
        var hex: String
        var ok: Bool
        var headers: [String: [String: AnyValue]]?
        var payload_hex: String?
        var testDescription: String { name }

        var bytes: [UInt8] { Self.bytes(fromHex: hex) }

        static func bytes(fromHex hex: String) -> [UInt8] {
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                bytes.append(UInt8(hex[index..<next], radix: 16)!)
                index = next
            }
            return bytes
        }
    }

    /// A JSON scalar from the fixture: bool, integer or string.
    enum AnyValue: Decodable, Equatable {
        case bool(Bool), int(Int64), string(String)
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(Int64.self) {
                self = .int(value)
            } else {
                self = .string(try container.decode(String.self))
            }
        }
    }

    static let frames: [Frame] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/eventstream-frames.json")
        return (try? JSONDecoder().decode([Frame].self, from: Data(contentsOf: url))) ?? []
    }()

    static func describe(_ value: EventStreamHeaderValue) -> [String: AnyValue] {
        switch value {
        case .bool(let bool): ["bool": .bool(bool)]
        case .byte(let number): ["int": .int(Int64(number))]
        case .short(let number): ["int": .int(Int64(number))]
        case .int(let number): ["int": .int(Int64(number))]
        case .long(let number), .timestamp(let number): ["int": .int(number)]
        case .bytes(let bytes), .uuid(let bytes): ["bytes": .string(Data(bytes).base64EncodedString())]
        case .string(let string): ["string": .string(string)]
        }
    }

    @Test func fixtureFileIsPresent() {
        #expect(Self.frames.filter(\.ok).count >= 5)
        #expect(Self.frames.filter { !$0.ok }.count >= 5)
    }

    @Test(arguments: frames.filter(\.ok))
    func goodFrameDecodesAsBotocoreDecodesIt(frame: Frame) throws {
        var decoder = EventStreamDecoder()
        decoder.append(frame.bytes)
        let message = try #require(try decoder.next())
        #expect(message.headers.mapValues(Self.describe) == frame.headers)
        #expect(message.payload == Frame.bytes(fromHex: frame.payload_hex ?? ""))
        #expect(try decoder.next() == nil)
        try decoder.finish()
    }

    @Test(arguments: frames.filter { !$0.ok })
    func badFrameIsAnErrorNotACrash(frame: Frame) throws {
        var decoder = EventStreamDecoder()
        decoder.append(frame.bytes)
        #expect(throws: EventStreamError.self) {
            _ = try decoder.next()
            try decoder.finish()
        }
    }

    @Test func framesArrivingInPiecesAreReassembled() throws {
        let good = Self.frames.filter(\.ok)
        let all = good.flatMap(\.bytes)
        var decoder = EventStreamDecoder()
        var decoded: [EventStreamMessage] = []
        var offset = 0
        while offset < all.count {
            let end = min(all.count, offset + 7)
            decoder.append(all[offset..<end])
            offset = end
            while let message = try decoder.next() { decoded.append(message) }
        }
        try decoder.finish()
        #expect(decoded.count == good.count)
        #expect(decoded.first?.eventType == "contentBlockDelta")
        #expect(decoded.last?.exceptionType == "throttlingException")
    }
}
