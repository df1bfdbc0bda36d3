import Foundation
import KaiwaCore
import KaiwaStore
import NIOCore
import Testing

@testable import KaiwaServer

/// The conversation JSON written by hand (for speed) says exactly what `JSONEncoder` would.
struct SessionJSONTests {
    /// The format style's form, to the millisecond the store keeps: the style truncates the
    /// binary fraction, so a stored .981 can come out .980.
    @Test func datesAreWrittenInTheISO8601FormToTheStoredMillisecond() throws {
        var generator = SystemRandomNumberGenerator()
        let millis: [Int64] = [0, 951_782_400_500, 4_102_444_799_999] + (0..<500).map { _ in Int64.random(in: 0...4_000_000_000_000, using: &generator) }
        for value in millis {
            let date = Date(millis: value)
            let text = JSONText.iso8601(date)
            let whole = Date(timeIntervalSince1970: Double(value / 1000))
            #expect(text == whole.formatted(Date.ISO8601FormatStyle()).dropLast() + "." + String(format: "%03d", value % 1000) + "Z", "\(value)")
            #expect(date.millis == value, "a stored time reads back as itself")
        }
    }

    /// Stored text blocks read without a decoder come back as written, whatever the characters.
    @Test func aStoredTextBlockReadsBackAsWrittenAndAnythingElseGoesToTheDecoder() throws {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["a", "日本語", "\"", "\\", "\n", "\r\n", "\t", "\u{1}", "\u{1F}", "\u{7F}", "/", "\u{2028}", "\u{2029}", "😀", "👨‍👩‍👧", "é", "\u{FFFF}", " "]
        var texts = ["", "plain", "ends with a backslash \\", "\"quoted\""]
        for _ in 0..<300 {
            texts.append((0..<Int.random(in: 1...20, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined())
        }
        for text in texts {
            let json = JSONText.encode([ContentBlock.text(text)])
            #expect(JSONText.singleText(json) == text, "\(json)")
            #expect(try StoredContent.decode(json, row: "r") == [.text(text)])
        }
        // Other content is not taken for one text block, and still reads right.
        let blocks: [ContentBlock] = [.text("a"), .text("b")]
        #expect(JSONText.singleText(JSONText.encode(blocks)) == nil)
        #expect(try StoredContent.decode(JSONText.encode(blocks), row: "r") == blocks)
        #expect(JSONText.singleText(#"[{"type":"text","text":"a\"}]"#) == nil)
        #expect(JSONText.singleText(#"[{"type":"text","text":"bad \x escape"}]"#) == nil)
        #expect(JSONText.singleText(#"[{"type":"text","text":"\ud83d alone"}]"#) == nil)
        #expect(JSONText.singleText(#"[{"type":"text","text":"\ud83d\ude00"}]"#) == "😀")
        #expect(throws: StoreCorruption.self) { try StoredContent.decode(#"[{"type":"text","text":"\x"}]"#, row: "r") }
    }

    @Test func aConversationIsTheSameJSONAsTheEncoderWouldWrite() throws {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000.5)
        let file = Attachment(id: "f1", mediaType: "image/png", name: "写真 \"1\".png", size: 12)
        let messages = [
            MessageRecord(
                id: "m1", sessionID: SessionID(trusted: "s"), sequence: 1, role: .user, content: [.text("こんにちは\n\"quoted\" \\ \u{1}"), .attachment(file)],
                model: nil, status: .complete, usage: nil, createdAt: t0
            ),
            MessageRecord(
                id: "m2", sessionID: SessionID(trusted: "s"), sequence: 2, role: .assistant,
                content: [.toolUse(id: "t1", name: "search", input: .object(["q": .string("京都"), "n": .number(3)])), .text("answer")],
                model: "fast", status: .partial, usage: TokenUsage(inputTokens: 10, outputTokens: 5), costUSD: 0.000012,
                createdAt: t0.addingTimeInterval(1), parentSequence: 1
            ),
            MessageRecord(
                id: "m3", sessionID: SessionID(trusted: "s"), sequence: 3, role: .assistant, content: [.text("again")],
                model: "fast", status: .complete, usage: nil, createdAt: t0.addingTimeInterval(2), parentSequence: 1
            ),
        ]
        let session = SessionRecord(id: SessionID(trusted: "s"), agent: "assistant", title: "タイトル", createdAt: t0, updatedAt: t0, currentLeaf: 3)
        for (page, whole) in [(SessionDetail.Page(limit: 1, before: nil), false), (.init(limit: 10, before: nil), false), (.init(limit: 10, before: nil), true)] {
            let detail = SessionDetail(session, tree: ConversationTree(messages), page: page, wholeTree: whole)
            let byHand = try JSONSerialization.jsonObject(with: Data(detail.json(pieceSize: 100).flatMap { Array(buffer: $0) })) as? NSDictionary
            let byEncoder = try JSONSerialization.jsonObject(with: JSONResponse.encoder.encode(detail)) as? NSDictionary
            #expect(byHand != nil)
            #expect(byHand == byEncoder)
        }
    }
}
