import Foundation
import KaiwaCore
import KaiwaStore

/// A conversation as the API shows it in lists, search results and exports.
struct SessionJSON: Encodable {
    var id: String
    var title: String
    var agent: String
    var createdAt: Date
    var updatedAt: Date
    /// The text around the match, in search results.
    var snippet: String?

    init(_ record: SessionRecord, snippet: String? = nil) {
        id = record.id.rawValue
        title = record.title
        agent = record.agent
        createdAt = record.createdAt
        updatedAt = record.updatedAt
        self.snippet = snippet
    }
}

/// A stored message as the API shows it.
struct MessageJSON: Encodable {
    var id: String
    var seq: Int
    var role: String
    /// The message's text, for clients that do not care about blocks.
    var text: String
    var content: [ContentBlock]
    var model: String?
    var status: String
    var usage: TokenUsage?
    /// What the reply cost in US dollars, when its model's prices are known.
    var costUSD: Double?
    var createdAt: Date

    init(_ record: MessageRecord) {
        id = record.id
        seq = record.sequence
        role = record.role.rawValue
        text = record.content.plainText
        content = record.content
        model = record.model
        status = record.status.rawValue
        usage = record.usage
        costUSD = record.costUSD
        createdAt = record.createdAt
    }
}
