import Foundation
import KaiwaCore

/// Conversations as JSON Lines, for moving them between stores (`kaiwa export`, `kaiwa
/// import`): a first line `{"format":"kaiwa.export.v1"}`, then one line per conversation with
/// its session and every message (content blocks, model, status, usage, cost, times). An
/// import reads and checks the whole file before it writes anything, and leaves a conversation
/// that is already there as it is: importing twice changes nothing.
public enum ConversationArchive {
    public static let format = "kaiwa.export.v1"

    struct Header: Codable {
        var format: String
    }

    struct Line: Codable {
        struct Session: Codable {
            var id: String
            var title: String
            var agent: String
            var owner: String?
            var created_at: Date
            var updated_at: Date
            /// The `seq` of the message that ends the branch the user was on.
            var current_leaf: Int?
        }
        struct Message: Codable {
            var id: String
            var role: Role
            var content: [ContentBlock]
            var model: String?
            var status: MessageStatus
            var usage: TokenUsage?
            var cost_usd: Double?
            var created_at: Date
            /// Its position, and the position of the message it follows (absent for a first
            /// message). Files without positions hold one straight branch.
            var seq: Int?
            var parent_seq: Int?
        }
        var session: Session
        var messages: [Message]
    }

    /// One conversation read from a file, checked.
    public struct Conversation: Sendable {
        public var session: SessionRecord
        public var messages: [NewMessage]
    }

    /// A file that cannot be imported; `line` is 1-based.
    public struct Problem: Error, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(JSONText.iso8601(date))
        }
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(text) is not an ISO 8601 time"))
        }
        return decoder
    }()

    /// Writes every conversation of `store`, newest first, one line each; returns how many.
    public static func export(_ store: any ChatStore, write: (String) throws -> Void) async throws -> Int {
        try write(String(decoding: try encoder.encode(Header(format: format)), as: UTF8.self))
        var count = 0
        var cursor: SessionCursor?
        while true {
            let page = try await store.listAllSessions(limit: 100, after: cursor)
            for session in page {
                let tree = ConversationTree(try await store.messages(in: session.id))
                let line = Line(
                    session: .init(
                        id: session.id.rawValue, title: session.title, agent: session.agent, owner: session.owner,
                        created_at: session.createdAt, updated_at: session.updatedAt, current_leaf: tree.leaf(session.currentLeaf)
                    ),
                    messages: tree.messages.map {
                        .init(
                            id: $0.id, role: $0.role, content: $0.content, model: $0.model, status: $0.status, usage: $0.usage,
                            cost_usd: $0.costUSD, created_at: $0.createdAt, seq: $0.sequence,
                            parent_seq: $0.parentSequence.flatMap { tree.message(at: $0) == nil ? nil : $0 }
                        )
                    }
                )
                try write(String(decoding: try encoder.encode(line), as: UTF8.self))
                count += 1
            }
            guard page.count == 100, let last = page.last else { return count }
            cursor = SessionCursor(updatedAt: last.updatedAt, id: last.id)
        }
    }

    /// Reads and checks a whole file; throws the first problem, naming its line.
    public static func read(_ text: String) throws -> [Conversation] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { ($0.offset + 1, $0.element) }
        while let last = lines.last, last.1.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard let first = lines.first else { throw Problem(line: 1, reason: "the file is empty") }
        guard (try? decoder.decode(Header.self, from: Data(first.1.utf8)))?.format == format else {
            throw Problem(line: 1, reason: "this is not a Kaiwa export (the first line must be {\"format\":\"\(format)\"})")
        }
        var seen = Set<String>()
        return try lines.dropFirst().map { number, raw in
            let line: Line
            do {
                line = try decoder.decode(Line.self, from: Data(raw.utf8))
            } catch {
                throw Problem(line: number, reason: "not a conversation: \(describe(error))")
            }
            return try conversation(line, number: number, seen: &seen)
        }
    }

    private static func conversation(_ line: Line, number: Int, seen: inout Set<String>) throws -> Conversation {
        func problem(_ reason: String) -> Problem { Problem(line: number, reason: reason) }
        guard let id = try? SessionID(validating: line.session.id, maxLength: SessionID.maxStoredLength) else {
            throw problem("session id \"\(line.session.id.prefix(80))\" is not letters, digits, - or _")
        }
        guard seen.insert(id.rawValue).inserted else { throw problem("session \(id) appears twice") }
        guard (1...500).contains(line.session.title.count) else { throw problem("session \(id) has a title of \(line.session.title.count) characters") }
        guard (1...64).contains(line.session.agent.count) else { throw problem("session \(id) has no agent") }
        var messageIDs = Set<String>()
        // The store numbers an imported conversation's messages 1, 2, 3, … in file order; parents are renumbered to match.
        var positions: [Int: Int] = [:]
        var previousSeq = 0
        let messages = try line.messages.enumerated().map { offset, message in
            guard (1...128).contains(message.id.count), messageIDs.insert(message.id).inserted else {
                throw problem("session \(id) has a missing or repeated message id")
            }
            var parent = MessageParent.previous
            if let seq = message.seq {
                guard seq > previousSeq, offset == 0 || !positions.isEmpty else {
                    throw problem("session \(id): message \(message.id) has seq \(seq), not above the message before it")
                }
                previousSeq = seq
                positions[seq] = offset + 1
                if let parentSeq = message.parent_seq {
                    guard let position = positions[parentSeq], parentSeq < seq else {
                        throw problem("session \(id): message \(message.id) follows seq \(parentSeq), which is not an earlier message")
                    }
                    parent = .after(position)
                } else {
                    parent = .root
                }
            } else if message.parent_seq != nil || !positions.isEmpty {
                throw problem("session \(id): message \(message.id) has no seq, but the messages before it do")
            }
            return NewMessage(
                role: message.role, content: message.content, model: message.model, status: message.status, usage: message.usage,
                costUSD: message.cost_usd, createdAt: message.created_at, id: message.id, parent: parent
            )
        }
        var currentLeaf: Int?
        if let leaf = line.session.current_leaf {
            guard let position = positions[leaf] else { throw problem("session \(id): current_leaf \(leaf) is not one of its messages") }
            currentLeaf = position
        }
        let session = SessionRecord(
            id: id, agent: line.session.agent, title: line.session.title, owner: line.session.owner,
            createdAt: line.session.created_at, updatedAt: line.session.updated_at, currentLeaf: currentLeaf
        )
        return Conversation(session: session, messages: messages)
    }

    private static func describe(_ error: any Error) -> String {
        func path(_ keys: [any CodingKey]) -> String { keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context), DecodingError.dataCorrupted(let context):
            let path = path(context.codingPath)
            return (path.isEmpty ? "" : path + ": ") + context.debugDescription
        default:
            return "\(error)"
        }
    }

    /// Stores the conversations that are not there yet; returns how many were stored and how
    /// many were already there.
    public static func load(_ conversations: [Conversation], into store: any ChatStore) async throws -> (imported: Int, present: Int) {
        var imported = 0
        var present = 0
        for conversation in conversations {
            if try await store.session(conversation.session.id) != nil {
                present += 1
                continue
            }
            _ = try await store.createSessionIfAbsent(conversation.session)
            // A few at a time: DynamoDB writes one conversation's messages in transactions of at most 100 items.
            for start in stride(from: 0, to: conversation.messages.count, by: 25) {
                _ = try await store.appendMessages(
                    Array(conversation.messages[start..<min(start + 25, conversation.messages.count)]), to: conversation.session.id, replyEvents: []
                )
            }
            if let leaf = conversation.session.currentLeaf {
                _ = try await store.setCurrentLeaf(leaf, of: conversation.session.id, owner: conversation.session.owner)
            }
            imported += 1
        }
        return (imported, present)
    }
}
