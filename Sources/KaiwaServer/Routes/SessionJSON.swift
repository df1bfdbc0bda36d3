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
    /// The position of the message this one follows; absent for a first message.
    var parentSeq: Int?
    /// Where the message stands among its siblings (an edited question's, a regenerated
    /// reply's); absent when it has none.
    var branch: Branch?

    struct Branch: Encodable {
        /// 1-based, oldest first: "2 / 3" is position 2 of count 3.
        var position: Int
        var count: Int
        /// Every sibling's id (this one's too), in that order.
        var siblings: [String]
    }

    init(_ record: MessageRecord, in tree: ConversationTree? = nil) {
        parentSeq = record.parentSequence
        if let siblings = tree?.siblings(of: record), siblings.count > 1 {
            branch = Branch(
                position: (siblings.firstIndex { $0.sequence == record.sequence } ?? 0) + 1, count: siblings.count, siblings: siblings.map(\.id)
            )
        }
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

/// One conversation as `GET /api/sessions/{id}` shows it: the branch the user is on, a page
/// at a time from the newest, each message with its siblings; or, asked for, the whole tree.
struct SessionDetail: Encodable {
    var id: String
    var title: String
    var agent: String
    var createdAt: Date
    var updatedAt: Date
    /// The position of the current branch's last message.
    var currentLeaf: Int?
    var messages: [MessageJSON]
    /// Pass as `before` for the page of messages before these; absent on the first page.
    var nextBefore: Int?
    /// With `tree=true`: the ids of the current branch, first to last (`messages` then holds every message).
    var path: [String]?

    struct Page {
        var limit: Int
        var before: Int?
    }

    init(_ session: SessionRecord, tree: ConversationTree, page: Page, wholeTree: Bool) {
        id = session.id.rawValue
        title = session.title
        agent = session.agent
        createdAt = session.createdAt
        updatedAt = session.updatedAt
        currentLeaf = tree.leaf(session.currentLeaf)
        let branch = tree.path(to: currentLeaf)
        if wholeTree {
            messages = tree.messages.map { MessageJSON($0, in: tree) }
            path = branch.map(\.id)
            return
        }
        let earlier = branch.filter { $0.sequence < page.before ?? .max }
        let shown = earlier.suffix(page.limit)
        messages = shown.map { MessageJSON($0, in: tree) }
        nextBefore = earlier.count > shown.count ? shown.first?.sequence : nil
    }
}

extension SessionDetail {
    /// The same JSON as `JSONResponse` makes of this value, written by hand: `JSONEncoder` with
    /// snake_case keys took most of the time of opening a long conversation.
    var jsonText: String {
        var fields = [
            "\"id\":" + JSONText.quoted(id), "\"title\":" + JSONText.quoted(title), "\"agent\":" + JSONText.quoted(agent),
            "\"created_at\":" + JSONText.quoted(JSONText.iso8601(createdAt)), "\"updated_at\":" + JSONText.quoted(JSONText.iso8601(updatedAt)),
        ]
        if let currentLeaf { fields.append("\"current_leaf\":\(currentLeaf)") }
        fields.append("\"messages\":[" + messages.map(\.jsonText).joined(separator: ",") + "]")
        if let nextBefore { fields.append("\"next_before\":\(nextBefore)") }
        if let path { fields.append("\"path\":[" + path.map(JSONText.quoted).joined(separator: ",") + "]") }
        return "{" + fields.joined(separator: ",") + "}"
    }
}

extension MessageJSON {
    var jsonText: String {
        var fields = [
            "\"id\":" + JSONText.quoted(id), "\"seq\":\(seq)", "\"role\":" + JSONText.quoted(role), "\"text\":" + JSONText.quoted(text),
            "\"content\":" + JSONText.encode(content),
        ]
        if let model { fields.append("\"model\":" + JSONText.quoted(model)) }
        fields.append("\"status\":" + JSONText.quoted(status))
        if let usage { fields.append("\"usage\":{\"input_tokens\":\(usage.inputTokens),\"output_tokens\":\(usage.outputTokens)}") }
        if let costUSD, costUSD.isFinite { fields.append("\"cost_usd\":" + JSONText.encode(.number(costUSD))) }
        fields.append("\"created_at\":" + JSONText.quoted(JSONText.iso8601(createdAt)))
        if let parentSeq { fields.append("\"parent_seq\":\(parentSeq)") }
        if let branch {
            fields.append(
                "\"branch\":{\"position\":\(branch.position),\"count\":\(branch.count),\"siblings\":["
                    + branch.siblings.map(JSONText.quoted).joined(separator: ",") + "]}"
            )
        }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
