import Foundation
import KaiwaCore
import Testing

/// The hand-written JSON of streamed events must say exactly what `JSONEncoder` says.
struct EventJSONTests {
    static let tricky = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} 日本語 😀 \u{2028} </script>"

    @Test(arguments: [
        ChatEvent.session(id: "s-1"),
        .delta(text: tricky),
        .toolCall(id: "t1", name: "search", input: .object(["q": .string(tricky), "n": .number(3), "x": .number(1.5), "l": .array([.bool(true), .null])])),
        .toolResult(id: "t1", ok: false, summary: tricky),
        .usage(TokenUsage(inputTokens: 12, outputTokens: 7)),
        .done(messageID: "m1", response: tricky, stopped: true, model: "openai:"),
        .done(messageID: "m2", response: "", stopped: false),
        .error(code: "service_unavailable", message: tricky),
    ])
    func handWrittenJSONMatchesTheEncoder(event: ChatEvent) throws {
        let sequenced = SequencedChatEvent(sequence: 4, event: event)
        let fast = try JSONSerialization.jsonObject(with: Data(sequenced.jsonText.utf8)) as? NSDictionary
        let reference = try JSONSerialization.jsonObject(with: JSONEncoder().encode(sequenced)) as? NSDictionary
        #expect(fast == reference)
        #expect(try JSONDecoder().decode(SequencedChatEvent.self, from: Data(sequenced.jsonText.utf8)) == sequenced)
    }
}

extension EventJSONTests {
    @Test func contentBlocksWrittenByHandDecodeBackToThemselves() throws {
        let blocks: [ContentBlock] = [
            .text(Self.tricky), .toolUse(id: "t\"1", name: "search", input: .object(["q": .array([.string(Self.tricky), .number(-2.25)])])),
            .toolResult(toolUseID: "t1", isError: true, content: Self.tricky),
        ]
        let text = JSONText.encode(blocks)
        #expect(try JSONDecoder().decode([ContentBlock].self, from: Data(text.utf8)) == blocks)
    }
}

extension EventJSONTests {
    @Test func everyStringReadsBackAsItselfAndLineSeparatorsAreEscaped() throws {
        let controls = String(String.UnicodeScalarView((0..<0x20).compactMap(Unicode.Scalar.init)))
        var samples = [controls, "\u{2028}", "ends with \u{2029}", "\u{2028}\u{2029}\u{2028}", "€ is E2 82 AC, not a separator", ""]
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefgh \"\\\n\t\u{1}\u{1f}\u{7f}é日😀\u{2028}\u{2029}€")
        for _ in 0..<500 {
            samples.append(String((0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }))
        }
        for sample in samples {
            let quoted = JSONText.quoted(sample)
            #expect(!quoted.contains("\u{2028}") && !quoted.contains("\u{2029}"))
            #expect(!quoted.unicodeScalars.contains { $0.value < 0x20 })
            #expect(try JSONDecoder().decode(String.self, from: Data(quoted.utf8)) == sample)
        }
    }
}
