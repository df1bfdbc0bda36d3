import KaiwaCore

/// The offline default model: answers from a `RuleBook` with no network and no cost, and
/// streams its answer in small pieces like any other model.
public struct RulesModel: ModelProvider {
    public let book: RuleBook
    /// How many characters each text delta carries.
    public let chunkSize: Int

    public var modelID: String { "rules" }

    public init(book: RuleBook = .bundled, chunkSize: Int = 8) {
        self.book = book
        self.chunkSize = max(1, chunkSize)
    }

    public func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelStreamEvent, any Error> {
        let lastUserText = request.messages.last { $0.role == .user }?.content.plainText ?? ""
        var events = Self.chunks(of: book.reply(to: lastUserText), size: chunkSize).map(ModelStreamEvent.textDelta)
        events.append(.stop(.endTurn))
        return .replaying(events)
    }

    static func chunks(of text: String, size: Int) -> [String] {
        var chunks: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if current.count == size {
                chunks.append(current)
                current = ""
            }
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }
}
