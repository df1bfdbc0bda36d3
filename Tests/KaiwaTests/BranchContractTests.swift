import Foundation
import KaiwaCore
import KaiwaStore
import Testing

/// Branches, the same on every store: each message hangs under its parent, the session keeps
/// the branch its user is on, and the history a turn reads is that branch only.
struct BranchContractTests {
    typealias Kind = StoreContractTests.Kind
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func message(_ role: Role, _ text: String, minute: Double, parent: MessageParent = .previous) -> NewMessage {
        NewMessage(role: role, content: [.text(text)], createdAt: t0.addingTimeInterval(minute * 60), parent: parent)
    }

    /// Q1 → A1 → Q2 → A2, then Q2 edited (Q2′ beside Q2) and answered (A2′).
    func branched(_ store: any ChatStore, id: String = "tree") async throws -> SessionID {
        let sessionID = SessionID(trusted: id)
        let session = SessionRecord(id: sessionID, agent: "assistant", title: "tree", owner: "alice", createdAt: t0, updatedAt: t0)
        let (_, first) = try await store.openSession(
            session, appending: [message(.user, "Q1", minute: 0), message(.assistant, "A1", minute: 1), message(.user, "Q2", minute: 2)]
        )
        #expect(first.map(\.parentSequence) == [nil, 1, 2])
        _ = try await store.appendMessages([message(.assistant, "A2", minute: 3, parent: .after(3))], to: sessionID, replyEvents: [])
        let (_, edited) = try await store.openSession(session, appending: [message(.user, "Q2′", minute: 4, parent: .after(2))])
        #expect(edited.map(\.sequence) == [5])
        _ = try await store.appendMessages([message(.assistant, "A2′", minute: 5, parent: .after(5))], to: sessionID, replyEvents: [])
        return sessionID
    }

    @Test(arguments: Kind.allCases)
    func anEditedQuestionIsASiblingAndTheNewBranchIsCurrent(kind: Kind) async throws {
        let store = try await kind.make()
        let id = try await branched(store)
        let session = try #require(try await store.session(id))
        #expect(session.currentLeaf == 6)
        let tree = ConversationTree(try await store.messages(in: id))
        #expect(tree.messages.map(\.parentSequence) == [nil, 1, 2, 3, 2, 5])
        #expect(tree.path(to: tree.leaf(session.currentLeaf)).map(\.content.plainText) == ["Q1", "A1", "Q2′", "A2′"])
        #expect(tree.siblings(of: try #require(tree.message(at: 5))).map(\.content.plainText) == ["Q2", "Q2′"])
        #expect(tree.siblings(of: try #require(tree.message(at: 1))).count == 1)
        // The history a turn reads follows the branch, not the order of writing.
        #expect(try await store.path(in: id, to: 6, limit: 50).map(\.content.plainText) == ["Q1", "A1", "Q2′", "A2′"])
        #expect(try await store.path(in: id, to: 6, limit: 2).map(\.content.plainText) == ["Q2′", "A2′"])
        #expect(try await store.path(in: id, to: 4, limit: 50).map(\.content.plainText) == ["Q1", "A1", "Q2", "A2"])
    }

    @Test(arguments: Kind.allCases)
    func switchingBranchesIsTheOwnersAndTheNextMessageFollowsIt(kind: Kind) async throws {
        let store = try await kind.make()
        let id = try await branched(store)
        #expect(try await store.setCurrentLeaf(4, of: id, owner: "bob") == nil)
        #expect(try await store.setCurrentLeaf(4, of: SessionID(trusted: "nope"), owner: "alice") == nil)
        let before = try #require(try await store.session(id))
        let switched = try #require(try await store.setCurrentLeaf(4, of: id, owner: "alice"))
        #expect(switched.currentLeaf == 4)
        #expect(switched.updatedAt == before.updatedAt)
        #expect(try await store.session(id)?.currentLeaf == 4)
        // A message sent now continues the branch the user switched to.
        let (_, next) = try await store.openSession(before, appending: [message(.user, "Q3", minute: 6)])
        #expect(next.first?.parentSequence == 4)
        #expect(try await store.session(id)?.currentLeaf == 7)
        #expect(try await store.path(in: id, to: 7, limit: 50).map(\.content.plainText) == ["Q1", "A1", "Q2", "A2", "Q3"])
    }

    @Test(arguments: Kind.allCases)
    func anEditedFirstQuestionIsANewRoot(kind: Kind) async throws {
        let store = try await kind.make()
        let id = try await branched(store, id: "roots")
        let session = try #require(try await store.session(id))
        let (_, root) = try await store.openSession(session, appending: [message(.user, "Q1′", minute: 7, parent: .root)])
        #expect(root.first?.parentSequence == nil)
        let tree = ConversationTree(try await store.messages(in: id))
        #expect(tree.siblings(of: root[0]).map(\.content.plainText) == ["Q1", "Q1′"])
        #expect(try await store.path(in: id, to: root[0].sequence, limit: 50).map(\.content.plainText) == ["Q1′"])
        #expect(tree.newestLeaf(under: 1) == 6)
    }

    /// A branch point older than the window the history read starts with: the store reads on.
    @Test(arguments: Kind.allCases)
    func aLongBranchIsReadWholeEvenWhenItForkedLongAgo(kind: Kind) async throws {
        let store = try await kind.make()
        let id = SessionID(trusted: "long")
        let session = SessionRecord(id: id, agent: "assistant", title: "long", owner: nil, createdAt: t0, updatedAt: t0)
        _ = try await store.openSession(session, appending: (0..<6).map { message($0 % 2 == 0 ? .user : .assistant, "m\($0)", minute: Double($0)) })
        // A second branch from message 2 with six messages, then six more on the first branch.
        _ = try await store.appendMessages(
            (0..<6).map { message($0 % 2 == 0 ? .user : .assistant, "b\($0)", minute: 10 + Double($0), parent: $0 == 0 ? .after(2) : .previous) },
            to: id, replyEvents: []
        )
        _ = try await store.appendMessages(
            (0..<6).map { message($0 % 2 == 0 ? .user : .assistant, "c\($0)", minute: 20 + Double($0), parent: $0 == 0 ? .after(6) : .previous) },
            to: id, replyEvents: []
        )
        let path = try await store.path(in: id, to: 18, limit: 10)
        #expect(path.map(\.content.plainText) == ["m2", "m3", "m4", "m5", "c0", "c1", "c2", "c3", "c4", "c5"])
        #expect(try await store.path(in: id, to: 12, limit: 50).map(\.content.plainText) == ["m0", "m1", "b0", "b1", "b2", "b3", "b4", "b5"])
    }

    @Test(arguments: Kind.allCases)
    func exportAndImportKeepTheTreeAndTheCurrentBranch(kind: Kind) async throws {
        let source = try await kind.make()
        let id = try await branched(source, id: "moving")
        _ = try await source.setCurrentLeaf(4, of: id, owner: "alice")
        var lines: [String] = []
        _ = try await ConversationArchive.export(source) { lines.append($0) }
        let target = try await kind.make()
        let conversations = try ConversationArchive.read(lines.joined(separator: "\n"))
        #expect(try await ConversationArchive.load(conversations, into: target).imported == 1)
        let tree = ConversationTree(try await target.messages(in: id))
        #expect(tree.messages.map(\.parentSequence) == [nil, 1, 2, 3, 2, 5])
        let session = try #require(try await target.session(id))
        #expect(tree.path(to: tree.leaf(session.currentLeaf)).map(\.content.plainText) == ["Q1", "A1", "Q2", "A2"])
    }
}
