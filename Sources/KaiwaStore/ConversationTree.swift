import Foundation
import KaiwaCore

/// A conversation's messages as the tree they form: each message follows its parent, an
/// edited question is a sibling of the original, a regenerated reply a sibling of the first.
/// The branch a user is on is the path from a root to the session's current leaf; it is
/// what the page shows and what the model reads.
public struct ConversationTree: Sendable {
    /// Every message, by position.
    public let messages: [MessageRecord]
    private let indexBySequence: [Int: Int]
    /// Positions of each parent's children, oldest first; first messages under `nil`.
    private let children: [Int?: [Int]]

    public init(_ messages: [MessageRecord]) {
        let ordered = messages.sorted { $0.sequence < $1.sequence }
        self.messages = ordered
        var index: [Int: Int] = [:]
        for (offset, message) in ordered.enumerated() { index[message.sequence] = offset }
        indexBySequence = index
        var children: [Int?: [Int]] = [:]
        // A parent that is gone (retention removed it) leaves its children as first messages.
        for message in ordered { children[message.parentSequence.flatMap { index[$0] == nil ? nil : $0 }, default: []].append(message.sequence) }
        self.children = children
    }

    public func message(at sequence: Int) -> MessageRecord? {
        indexBySequence[sequence].map { messages[$0] }
    }

    public func message(withID id: String) -> MessageRecord? {
        messages.first { $0.id == id }
    }

    /// The leaf a session's `currentLeaf` names, or the last message when it names none that is here.
    public func leaf(_ currentLeaf: Int?) -> Int? {
        if let currentLeaf, indexBySequence[currentLeaf] != nil { return currentLeaf }
        return messages.last?.sequence
    }

    /// The messages from a root down to `leaf`, in order.
    public func path(to leaf: Int?) -> [MessageRecord] {
        var path: [MessageRecord] = []
        var next = leaf
        while let sequence = next, let message = message(at: sequence) {
            path.append(message)
            // Positions only grow down the tree; a parent at or after its child is a damaged row, and ends the walk.
            next = message.parentSequence.flatMap { $0 < sequence ? $0 : nil }
        }
        return path.reversed()
    }

    /// The message itself and the others with its parent, oldest first.
    public func siblings(of message: MessageRecord) -> [MessageRecord] {
        (children[parent(of: message)] ?? [message.sequence]).compactMap { self.message(at: $0) }
    }

    /// How many messages `siblings(of:)` would give, without making them.
    public func siblingCount(of message: MessageRecord) -> Int {
        children[parent(of: message)]?.count ?? 1
    }

    private func parent(of message: MessageRecord) -> Int? {
        message.parentSequence.flatMap { indexBySequence[$0] == nil ? nil : $0 }
    }

    /// Where switching to `sequence` lands: down its newest children to a leaf.
    public func newestLeaf(under sequence: Int) -> Int {
        var leaf = sequence
        while let newest = children[leaf]?.last { leaf = newest }
        return leaf
    }

    /// The question a reply answers: the nearest message at or above `sequence` that a person
    /// wrote (tool results travel as user messages too, and are passed over).
    public func question(answeredBy sequence: Int) -> MessageRecord? {
        path(to: sequence).last { $0.role == .user && !$0.content.isToolResults }
    }
}

extension MessageParent {
    /// The parent position of each of `messages`, written at `first`, `first + 1`, … in a
    /// session whose current leaf is `leaf`.
    public static func positions(of messages: [NewMessage], startingAt first: Int, after leaf: Int?) -> [Int?] {
        messages.indices.map { offset in
            switch messages[offset].parent {
            case .previous: offset == 0 ? leaf : first + offset - 1
            case .root: nil
            case .after(let sequence): sequence
            }
        }
    }
}
