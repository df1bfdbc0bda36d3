import Foundation
import Hummingbird
import KaiwaCore
import KaiwaModels
import OpenAPIRuntime
import PropertyBased
import Testing

@testable import KaiwaAWS
@testable import KaiwaAgent
@testable import KaiwaServer

/// Property-based tests of the parsers that read what others send: random inputs never crash
/// them, and what Kaiwa writes reads back as it was.
struct PropertyTests {
    /// Any text: ASCII (with the characters that matter to the formats: quotes, backslashes,
    /// CR, LF, NUL), Japanese, emoji.
    static let text = Gen<Character?>.element(
        of: Array("ab \"\\\r\n\t\u{0}\u{7}:{}[]日本語カンファレンス😀é") + ["\r\n"]
    ).compactMap { $0 }.string(of: 0...80)

    // MARK: Server-Sent Events

    @Test func eventsWrittenAsServerSentEventsReadBackUnchanged() async {
        await propertyCheck(input: Self.text.array(of: 1...5), Gen.int(in: 1...1_000_000)) { texts, first in
            var events: [SequencedChatEvent] = []
            for (offset, text) in texts.enumerated() {
                events.append(SequencedChatEvent(sequence: first + offset, event: .delta(text: text)))
            }
            events.append(SequencedChatEvent(sequence: first + texts.count, event: .error(code: "bad_request", message: texts.joined())))
            let wire: [UInt8] = Array(events.map(KaiwaSSEFormat().encode).joined().utf8)
            let body = AsyncStream<ArraySlice<UInt8>> { continuation in
                continuation.yield(wire[...])
                continuation.finish()
            }
            var decoded: [SequencedChatEvent] = []
            for try await event in body.asDecodedServerSentEvents() {
                #expect(event.id == event.data.flatMap { Self.sequence(of: $0) }.map(String.init))
                if let data = event.data, let parsed = try? JSONDecoder().decode(SequencedChatEvent.self, from: Data(data.utf8)) {
                    decoded.append(parsed)
                }
            }
            #expect(decoded == events)
        }
    }

    static func sequence(of json: String) -> Int? {
        ((try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any])?["seq"] as? Int
    }

    @Test func anOpenAIStreamCutAnywhereIntoPiecesGivesTheSameText() async throws {
        let pieces = Shared<[Int]>([])
        let texts = Shared<[String]>([])
        try await withFakeUpstream({ router in
            router.post("/chat/completions") { _, _ in
                let chunks = texts.get().map(OpenAIProviderTests.delta).map { "data: \($0)\n\n" }.joined() + "data: [DONE]\n\n"
                let bytes = Array(chunks.utf8)
                let cuts = pieces.get()
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: ResponseBody { writer in
                        var start = 0
                        for cut in cuts + [bytes.count] where cut > start && cut <= bytes.count {
                            try await writer.write(ByteBuffer(bytes: bytes[start..<cut]))
                            start = cut
                        }
                        try await writer.finish(nil)
                    }
                )
            }
        }) { base in
            let provider = OpenAIProviderTests.provider(base)
            let words = Gen<Character?>.element(of: Array("ab 日本😀é.")).compactMap { $0 }.string(of: 1...12).array(of: 1...8)
            await propertyCheck(count: 60, input: words, Gen.int(in: 1...400).array(of: 0...12)) { sent, cuts in
                texts.set(sent)
                pieces.set(cuts.sorted())
                let events = try await collectEvents(provider.stream(.init(system: "", messages: [.user("hi")])))
                let received = events.compactMap { event -> String? in
                    if case .textDelta(let text) = event { return text }
                    return nil
                }
                #expect(received.joined() == sent.joined())
            }
        }
    }

    // MARK: AWS event stream

    static let header = Gen<Character?>.element(of: Array("abcxyz-:")).compactMap { $0 }.string(of: 1...20)

    @Test func eventStreamMessagesReadBackWhateverPiecesTheyArriveIn() async {
        let message = PropertyBased.zip(
            PropertyBased.zip(Self.header, Self.text).array(of: 0...4),
            Self.text
        )
        await propertyCheck(input: message.array(of: 1...4), Gen.int(in: 1...64)) { messages, pieceSize in
            let frames = messages.map { headers, payload in FakeBedrock.frame(headers.map { ($0.0, $0.1) }, payload) }
            var decoder = EventStreamDecoder()
            var decoded: [EventStreamMessage] = []
            let bytes = frames.flatMap { $0 }
            var index = 0
            while index < bytes.count {
                decoder.append(bytes[index..<min(index + pieceSize, bytes.count)])
                index += pieceSize
                while let next = try decoder.next() { decoded.append(next) }
            }
            try decoder.finish()
            #expect(decoded.count == messages.count)
            for (got, (headers, payload)) in zip(decoded, messages) {
                #expect(got.payload == Array(payload.utf8))
                // A repeated header name keeps its last value.
                let expected = Dictionary(headers, uniquingKeysWith: { $1 })
                #expect(got.headers.mapValues { $0.string ?? "" } == expected)
            }
        }
    }

    @Test func anyByteChangedInAnEventStreamMessageIsRefusedNeverMisread() async {
        let frame = FakeBedrock.event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Hello"}}"#)
        await propertyCheck(input: Gen.int(in: 0...(frame.count - 1)), Gen<UInt8>.value(in: 1...255)) { position, flip in
            var broken = frame
            broken[position] ^= flip
            var decoder = EventStreamDecoder()
            decoder.append(broken)
            var message: EventStreamMessage?
            do {
                message = try decoder.next()
                if message == nil { try decoder.finish() }
                Issue.record("a message with byte \(position) changed was read: \(String(describing: message))")
            } catch {
                // Refused, as it must be.
            }
        }
    }

    @Test func randomBytesNeverCrashTheEventStreamDecoder() async {
        await propertyCheck(count: 300, input: Gen<UInt8>.value(in: 0...255).array(of: 0...200)) { bytes in
            var decoder = EventStreamDecoder()
            decoder.append(bytes)
            do {
                while try decoder.next() != nil {}
                try decoder.finish()
            } catch {}
        }
    }

    // MARK: JSON schema

    /// JSON values a few levels deep, built from a list of numbers (so that they shrink).
    static let json = Gen.int(in: 0...1000).array(of: 0...40).map { numbers -> JSONValue in
        var rest = numbers[...]
        func next() -> Int { rest.popFirst() ?? 0 }
        func build(depth: Int) -> JSONValue {
            switch next() % (depth > 2 ? 4 : 6) {
            case 0: return .null
            case 1: return .bool(next() % 2 == 0)
            case 2: return .number([0, -1, 1.5, 1e20, -1e300, Double(next())][next() % 6])
            case 3: return .string(String(repeating: "あ", count: next() % 5))
            case 4: return .array((0..<(next() % 4)).map { _ in build(depth: depth + 1) })
            default:
                return .object(Dictionary((0..<(next() % 4)).map { _ in ("k\(next() % 5)", build(depth: depth + 1)) }, uniquingKeysWith: { $1 }))
            }
        }
        return build(depth: 0)
    }

    /// A schema that `value` meets: its type, and for objects and arrays their parts.
    static func schema(describing value: JSONValue) -> JSONValue {
        switch value {
        case .null: .object(["type": .string("null")])
        case .bool: .object(["type": .string("boolean")])
        case .number(let number): .object(["type": .string("number"), "minimum": .number(number), "maximum": .number(number)])
        case .string: .object(["type": .string("string")])
        case .array(let items):
            // Items alike are described; items of different shapes are left unconstrained.
            .object(["type": .string("array"), "items": Set(items.map(schema(describing:))).count == 1 ? schema(describing: items[0]) : .object([:])])
        case .object(let members):
            .object([
                "type": .string("object"), "properties": .object(members.mapValues(schema(describing:))),
                // A required parameter sent as null counts as missing (models send null for "none").
                "required": .array(members.filter { $0.value != .null }.keys.map(JSONValue.string)), "additionalProperties": .bool(false),
            ])
        }
    }

    @Test func aValueMeetsTheSchemaThatDescribesItAndAnyOtherSchemaNeverCrashes() async {
        await propertyCheck(input: Self.json, Self.json) { value, other in
            let problems = JSONSchemaValidator.problems(in: value, against: Self.schema(describing: value))
            #expect(problems.isEmpty, "\(value): \(problems)")
            _ = JSONSchemaValidator.problems(in: value, against: other)
            _ = JSONSchemaValidator.problems(in: value, against: Self.schema(describing: other))
        }
    }

    // MARK: Session ids

    @Test func sessionIDsAreAcceptedExactlyWhenTheyAreShortAndPlain() async {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_".utf8)
        let candidate = Gen<Character?>.element(of: Array("aZ09-_ ./%\u{0}é日😀\n")).compactMap { $0 }.string(of: 0...140)
        await propertyCheck(count: 300, input: candidate) { raw in
            let accepted = try? SessionID(validating: raw)
            let shouldBe = (1...SessionID.maxLength).contains(raw.utf8.count) && raw.utf8.allSatisfy(allowed.contains)
            #expect((accepted != nil) == shouldBe, "\(raw.debugDescription)")
            #expect(accepted.map(\.rawValue) ?? raw == raw)
        }
    }
}
