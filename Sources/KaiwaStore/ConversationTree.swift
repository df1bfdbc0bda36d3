import Foundation
import KaiwaCore

/// A conversation's messages as the tree they form: each message follows its parent, an
/// edited question is a sibling of the original, a regenerated reply a sibling of the first.
/// The branch a user is on is the path from a root to the session's current leaf; it is
/// what the page shows and what the model reads.
public struct ConversationTree: Sendable {
    /// Every message, by position.
    public let messages: [MessageRecord]
    /// Each parent's children, oldest first, as offsets into `messages`: those of the message
    /// at offset `i` are `childOffsets[childStart[i]..<childStart[i + 1]]`; first messages (and
    /// those whose parent is gone) come last, after index `messages.count`. Flat arrays: a
    /// conversation of a thousand messages is read often, and an array per parent showed.
    private let childStart: [Int]
    private let childOffsets: [Int]

    public init(_ messages: [MessageRecord]) {
        var ordered = messages
        if !zip(ordered, ordered.dropFirst()).allSatisfy({ $0.sequence < $1.sequence }) { ordered.sort { $0.sequence < $1.sequence } }
        self.messages = ordered
        // A parent that is gone (retention removed it) leaves its children as first messages.
        let parents = ordered.map { message in message.parentSequence.flatMap { Self.offset(of: $0, in: ordered) } ?? ordered.count }
        var start = [Int](repeating: 0, count: ordered.count + 2)
        for parent in parents { start[parent + 1] += 1 }
        for index in 1..<start.count { start[index] += start[index - 1] }
        var next = start
        var offsets = [Int](repeating: 0, count: ordered.count)
        for (child, parent) in parents.enumerated() {
            offsets[next[parent]] = child
            next[parent] += 1
        }
        childStart = start
        childOffsets = offsets
    }

    /// Where the message at `sequence` is in `messages` (sorted by position).
    private static func offset(of sequence: Int, in messages: [MessageRecord]) -> Int? {
        var low = 0
        var high = messages.count
        while low < high {
            let middle = (low + high) / 2
            if messages[middle].sequence < sequence { low = middle + 1 } else { high = middle }
        }
        return low < messages.count && messages[low].sequence == sequence ? low : nil
    }

    /// Offsets of the children of the message at `offset` (`messages.count`: the first messages).
    private func children(ofOffset offset: Int) -> ArraySlice<Int> {
        childOffsets[childStart[offset]..<childStart[offset + 1]]
    }

    public func message(at sequence: Int) -> MessageRecord? {
        Self.offset(of: sequence, in: messages).map { messages[$0] }
    }

    public func message(withID id: String) -> MessageRecord? {
        messages.first { $0.id == id }
    }

    /// The leaf a session's `currentLeaf` names, or the last message when it names none that is here.
    public func leaf(_ currentLeaf: Int?) -> Int? {
        if let currentLeaf, Self.offset(of: currentLeaf, in: messages) != nil { return currentLeaf }
        return messages.last?.sequence
    }

    /// The messages from a root down to `leaf`, in order.
    public func path(to leaf: Int?) -> [MessageRecord] {
        var offsets: [Int] = []
        var next = leaf.flatMap { Self.offset(of: $0, in: messages) }
        while let offset = next {
            offsets.append(offset)
            let message = messages[offset]
            // Positions only grow down the tree; a parent at or after its child is a damaged row, and ends the walk.
            next = message.parentSequence.flatMap { $0 < message.sequence ? Self.offset(of: $0, in: messages) : nil }
        }
        return offsets.reversed().map { messages[$0] }
    }

    /// The message itself and the others with its parent, oldest first.
    public func siblings(of message: MessageRecord) -> [MessageRecord] {
        guard Self.offset(of: message.sequence, in: messages) != nil else { return [message] }
        return children(ofOffset: parentOffset(of: message)).map { messages[$0] }
    }

    /// How many messages `siblings(of:)` would give, without making them.
    public func siblingCount(of message: MessageRecord) -> Int {
        guard Self.offset(of: message.sequence, in: messages) != nil else { return 1 }
        return children(ofOffset: parentOffset(of: message)).count
    }

    private func parentOffset(of message: MessageRecord) -> Int {
        message.parentSequence.flatMap { Self.offset(of: $0, in: messages) } ?? messages.count
    }

    /// Where switching to `sequence` lands: down its newest children to a leaf.
    public func newestLeaf(under sequence: Int) -> Int {
        guard var offset = Self.offset(of: sequence, in: messages) else { return sequence }
        while let newest = children(ofOffset: offset).last { offset = newest }
        return messages[offset].sequence
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
