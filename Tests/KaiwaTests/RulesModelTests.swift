import Foundation
import KaiwaCore
import KaiwaModels
import Testing

struct RulesModelTests {
    func reply(_ model: RulesModel, to message: String) async throws -> (text: String, deltas: [String]) {
        var deltas: [String] = []
        var stop: StopReason?
        for try await event in model.stream(ModelRequest(messages: [.user(message)])) {
            switch event {
            case .textDelta(let text): deltas.append(text)
            case .stop(let reason): stop = reason
            case .usage, .toolUseStart, .toolUseInputDelta, .toolUseEnd, .answeredBy: break
            }
        }
        #expect(stop == .endTurn)
        return (deltas.joined(), deltas)
    }

    @Test(arguments: [
        ("こんにちは", "こんにちは！何かお手伝いできることはありますか？"),
        ("みなさん、こんにちは。", "こんにちは！何かお手伝いできることはありますか？"),
        ("ありがとう", "どういたしまして！"),
        ("明日の天気は？", "今日の天気は晴れです！"),
        ("こんにちは、天気は？", "こんにちは！何かお手伝いできることはありますか？"),
        ("Swiftとは", "「Swiftとは」についてですね。申し訳ありません、まだそのトピックについては学習していません。"),
    ])
    func bundledRulesAnswerExactlyAsSeed000(message: String, expected: String) async throws {
        #expect(try await reply(RulesModel(), to: message).text == expected)
    }

    @Test func answerIsStreamedInSeveralPieces() async throws {
        let (text, deltas) = try await reply(RulesModel(chunkSize: 4), to: "こんにちは")
        #expect(deltas.count > 1)
        #expect(deltas.allSatisfy { $0.count <= 4 })
        #expect(text == "こんにちは！何かお手伝いできることはありますか？")
    }

    @Test func rulesFileReplacesTheBundledRules() async throws {
        let path = try makeTemporaryDirectory().appendingPathComponent("rules.json").path
        try Data(#"{"rules":[{"keywords":["hello","hi"],"reply":"Hello there!"}],"fallback":"No idea about {message}."}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        let model = RulesModel(book: try RuleBook.load(path: path))
        #expect(try await reply(model, to: "oh hi").text == "Hello there!")
        #expect(try await reply(model, to: "cats").text == "No idea about cats.")
    }

    @Test(arguments: [
        ("{not json", "it is not valid JSON"),
        (#"{"rules":[]}"#, "\"fallback\" is missing"),
        (#"{"rules":[{"keywords":[],"reply":"x"}],"fallback":"f"}"#, "rule 1 needs at least one non-empty keyword"),
        (#"{"rules":[{"keywords":["a"],"reply":""}],"fallback":"f"}"#, "rule 1 has an empty reply"),
        (#"{"rules":[{"keywords":"a","reply":"x"}],"fallback":"f"}"#, "rules[0].keywords should be a list"),
    ])
    func brokenRulesFileIsRejectedNamingTheFileAndTheProblem(content: String, problem: String) throws {
        let path = try makeTemporaryDirectory().appendingPathComponent("rules.json").path
        try Data(content.utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: RuleBookError.self) { try RuleBook.load(path: path) }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains(problem) == true, "\(error?.description ?? "")")
    }

    @Test func missingRulesFileIsRejectedNamingTheFile() {
        let error = #expect(throws: RuleBookError.self) { try RuleBook.load(path: "/nonexistent/rules.json") }
        #expect(error?.description.contains("/nonexistent/rules.json") == true)
    }
}
