import Foundation
import NIOCore
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
        if let tree, tree.siblingCount(of: record) > 1 {
            let siblings = tree.siblings(of: record)
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
    /// The same JSON as `JSONResponse` makes of this value, written by hand (`JSONEncoder` with
    /// snake_case keys took most of the time of opening a long conversation), in pieces of about
    /// `pieceSize` bytes: no large buffer to map and fault in for each response.
    func json(pieceSize: Int = 48 * 1024) -> [ByteBuffer] {
        var pieces: [ByteBuffer] = []
        var writer = JSONWriter(capacity: pieceSize + 16 * 1024)
        writer.raw("{\"id\":")
        writer.string(id)
        writer.raw(",\"title\":")
        writer.string(title)
        writer.raw(",\"agent\":")
        writer.string(agent)
        writer.raw(",\"created_at\":")
        writer.iso8601(createdAt)
        writer.raw(",\"updated_at\":")
        writer.iso8601(updatedAt)
        if let currentLeaf {
            writer.raw(",\"current_leaf\":")
            writer.integer(currentLeaf)
        }
        writer.raw(",\"messages\":[")
        for (index, message) in messages.enumerated() {
            if index > 0 { writer.raw(",") }
            message.write(into: &writer)
            if writer.bytes.count >= pieceSize {
                pieces.append(ByteBuffer(bytes: writer.bytes))
                writer.clear()
            }
        }
        writer.raw("]")
        if let nextBefore {
            writer.raw(",\"next_before\":")
            writer.integer(nextBefore)
        }
        if let path {
            writer.raw(",\"path\":")
            writer.strings(path)
        }
        writer.raw("}")
        pieces.append(ByteBuffer(bytes: writer.bytes))
        return pieces
    }
}

extension MessageJSON {
    func write(into writer: inout JSONWriter) {
        writer.raw("{\"id\":")
        writer.string(id)
        writer.raw(",\"seq\":")
        writer.integer(seq)
        writer.raw(",\"role\":")
        writer.string(role)
        writer.raw(",\"text\":")
        writer.string(text)
        writer.raw(",\"content\":")
        writer.blocks(content)
        if let model {
            writer.raw(",\"model\":")
            writer.string(model)
        }
        writer.raw(",\"status\":")
        writer.string(status)
        if let usage {
            writer.raw(",\"usage\":{\"input_tokens\":")
            writer.integer(usage.inputTokens)
            writer.raw(",\"output_tokens\":")
            writer.integer(usage.outputTokens)
            writer.raw("}")
        }
        if let costUSD, costUSD.isFinite {
            writer.raw(",\"cost_usd\":")
            writer.number(costUSD)
        }
        writer.raw(",\"created_at\":")
        writer.iso8601(createdAt)
        if let parentSeq {
            writer.raw(",\"parent_seq\":")
            writer.integer(parentSeq)
        }
        if let branch {
            writer.raw(",\"branch\":{\"position\":")
            writer.integer(branch.position)
            writer.raw(",\"count\":")
            writer.integer(branch.count)
            writer.raw(",\"siblings\":")
            writer.strings(branch.siblings)
            writer.raw("}")
        }
        writer.raw("}")
    }
}
