import Foundation
import GRDB
import KaiwaCore
import KaiwaDynamoDBStore
import KaiwaStore
import Testing

/// `kaiwa export`, `kaiwa import` and `kaiwa store backup` as people run them: the real binary,
/// SQLite files, and DynamoDB on moto_server.
struct ArchiveCommandTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// A SQLite store with two owners' conversations, one with a tool call and a partial reply.
    func filledStore(at path: String) async throws {
        let store = try SQLiteChatStore(path: path)
        for (index, owner) in [(0, "alice"), (1, nil), (2, "bob")] as [(Int, String?)] {
            let time = t0.addingTimeInterval(Double(index) * 60)
            let session = SessionRecord(id: SessionID(trusted: "s\(index)"), agent: "confee", title: "会話 \(index)", owner: owner, createdAt: time, updatedAt: time)
            _ = try await store.openSession(
                session,
                appending: [
                    NewMessage(role: .user, content: [.text("TypeScriptのイベント \(index)")], createdAt: time, id: "u\(index)"),
                    NewMessage(
                        role: .assistant,
                        content: [.text("探します。"), .toolUse(id: "t\(index)", name: "search_connpass", input: .object(["keyword": .string("TS")]))],
                        model: "bedrock:nova", status: index == 1 ? .partial : .complete, usage: TokenUsage(inputTokens: 10, outputTokens: 3),
                        costUSD: 0.0001, createdAt: time.addingTimeInterval(1), id: "a\(index)"
                    ),
                ]
            )
        }
    }

    @Test func conversationsMoveFromSQLiteToDynamoDBWithEverythingKeptAndAgainChangesNothing() async throws {
        let folder = try makeTemporaryDirectory()
        let sqlite = folder.appendingPathComponent("kaiwa.sqlite").path
        try await filledStore(at: sqlite)
        let file = folder.appendingPathComponent("export.jsonl").path
        let exported = try await StoreCommandTests.run(["export", "--out", file, "--sqlite-path", sqlite], environment: [:])
        #expect(exported.status == 0, "\(exported.errors)")
        #expect(exported.output.contains("Exported 3 conversations"))
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines.first == #"{"format":"kaiwa.export.v1"}"#)
        #expect(try await StoreCommandTests.run(["export", "--out", file, "--sqlite-path", sqlite], environment: [:]).status != 0)

        let prefix = MotoServer.freshPrefix()
        let environment = [
            "KAIWA_STORE": "dynamodb", "KAIWA_DYNAMODB_TABLE_PREFIX": prefix, "AWS_ENDPOINT_URL_DYNAMODB": try await MotoServer.shared.url(),
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "ap-northeast-1",
        ]
        _ = try await StoreCommandTests.run(["store", "create-tables", "--table-prefix", prefix], environment: environment)
        let imported = try await StoreCommandTests.run(["import", file], environment: environment)
        #expect(imported.status == 0, "\(imported.errors)")
        #expect(imported.output.contains("Imported 3 conversations; 0 already there."))
        let again = try await StoreCommandTests.run(["import", file], environment: environment)
        #expect(again.output.contains("Imported 0 conversations; 3 already there."))

        let source = try SQLiteChatStore(path: sqlite)
        let target = try await MotoServer.makeStore(prefix: prefix)
        for index in 0..<3 {
            let id = SessionID(trusted: "s\(index)")
            let original = try #require(try await source.session(id))
            let moved = try #require(try await target.session(id))
            #expect(moved.owner == original.owner && moved.title == original.title && moved.agent == original.agent)
            #expect(moved.createdAt == original.createdAt)
            let before = try await source.messages(in: id)
            let after = try await target.messages(in: id)
            #expect(after.map(\.id) == before.map(\.id))
            #expect(after.map(\.content) == before.map(\.content))
            #expect(after.map(\.status) == before.map(\.status))
            #expect(after.map(\.usage) == before.map(\.usage))
            #expect(after.map(\.createdAt) == before.map(\.createdAt))
        }
        // Each owner still sees only their own.
        #expect(try await target.listSessions(owner: "alice", limit: 10, after: nil).map(\.id.rawValue) == ["s0"])
        #expect(try await target.listSessions(owner: nil, limit: 10, after: nil).map(\.id.rawValue) == ["s1"])
    }

    /// An import into SQLite leaves its search index complete: a server started on the file
    /// answers its first search at once instead of indexing everything then.
    @Test func importedConversationsAreIndexedForSearchByTheImport() async throws {
        let folder = try makeTemporaryDirectory()
        let source = folder.appendingPathComponent("source.sqlite").path
        try await filledStore(at: source)
        let file = folder.appendingPathComponent("export.jsonl").path
        #expect(try await StoreCommandTests.run(["export", "--out", file, "--sqlite-path", source], environment: [:]).status == 0)
        let target = folder.appendingPathComponent("target.sqlite").path
        let imported = try await StoreCommandTests.run(["import", file, "--sqlite-path", target], environment: [:])
        #expect(imported.status == 0, "\(imported.errors)")
        let pending = try await DatabaseQueue(path: target).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM search_pending") }
        #expect(pending == 0)
        let hits = try await SQLiteChatStore(path: target).searchSessions(owner: "bob", matching: "TypeScriptのイベント", limit: 5)
        #expect(hits.map(\.session.id.rawValue) == ["s2"])
    }

    @Test(arguments: [
        ("", "line 1: the file is empty"),
        (#"{"sessions":[]}"#, "line 1: this is not a Kaiwa export"),
        ("{\"format\":\"kaiwa.export.v1\"}\nnot json", "line 2: not a conversation"),
        ("{\"format\":\"kaiwa.export.v1\"}\n{\"session\":{\"id\":\"a b\",\"title\":\"t\",\"agent\":\"x\",\"created_at\":\"2027-01-01T00:00:00Z\",\"updated_at\":\"2027-01-01T00:00:00Z\"},\"messages\":[]}", "line 2: session id \"a b\""),
        ("{\"format\":\"kaiwa.export.v1\"}\n{\"session\":{\"id\":\"ok\",\"title\":\"t\",\"agent\":\"x\",\"created_at\":\"yesterday\",\"updated_at\":\"2027-01-01T00:00:00Z\"},\"messages\":[]}", "line 2: not a conversation: session.created_at"),
        ("{\"format\":\"kaiwa.export.v1\"}\n{\"session\":{\"id\":\"ok\",\"title\":\"t\",\"agent\":\"x\",\"created_at\":\"2027-01-01T00:00:00Z\",\"updated_at\":\"2027-01-01T00:00:00Z\"},\"messages\":[{\"id\":\"m\",\"role\":\"system\",\"content\":[],\"status\":\"complete\",\"created_at\":\"2027-01-01T00:00:00Z\"}]}", "line 2: not a conversation: messages.0.role"),
    ])
    func aFileWithAProblemImportsNothingAndNamesTheLine(content: String, reason: String) async throws {
        let folder = try makeTemporaryDirectory()
        let sqlite = folder.appendingPathComponent("kaiwa.sqlite").path
        try await filledStore(at: sqlite)
        // A good conversation before the bad line: it must not be imported either.
        let good = #"{"session":{"id":"first","title":"t","agent":"x","created_at":"2027-01-01T00:00:00Z","updated_at":"2027-01-01T00:00:00Z"},"messages":[]}"#
        var text = content
        if let newline = text.firstIndex(of: "\n") { text.insert(contentsOf: good + "\n", at: text.index(after: newline)) }
        let file = folder.appendingPathComponent("bad.jsonl").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try await StoreCommandTests.run(["import", file, "--sqlite-path", sqlite], environment: [:])
        #expect(result.status != 0)
        let expected = text.contains("\n") ? reason.replacingOccurrences(of: "line 2", with: "line 3") : reason
        #expect(result.errors.contains("nothing imported") && result.errors.contains(expected), "\(result.errors)")
        #expect(try await SQLiteChatStore(path: sqlite).session(SessionID(trusted: "first")) == nil)
    }

    @Test func backupCopiesALiveDatabaseAndNeverOverwrites() async throws {
        let folder = try makeTemporaryDirectory()
        let sqlite = folder.appendingPathComponent("kaiwa.sqlite").path
        try await filledStore(at: sqlite)
        // A writer keeps writing while the copy is made.
        let store = try SQLiteChatStore(path: sqlite)
        let writer = Task {
            for index in 0..<200 {
                _ = try await store.appendMessage(NewMessage(role: .user, content: [.text("more \(index)")], createdAt: t0), to: SessionID(trusted: "s0"))
            }
        }
        let copy = folder.appendingPathComponent("copy.sqlite").path
        let result = try await StoreCommandTests.run(["store", "backup", copy, "--sqlite-path", sqlite], environment: [:])
        try await writer.value
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("3 conversations"))
        #expect(result.output.contains("integrity ok"))
        let backedUp = try SQLiteChatStore(path: copy)
        #expect(try await backedUp.listAllSessions(limit: 10, after: nil).count == 3)
        #expect(try await backedUp.messages(in: SessionID(trusted: "s2")).map(\.id) == ["u2", "a2"])

        let twice = try await StoreCommandTests.run(["store", "backup", copy, "--sqlite-path", sqlite], environment: [:])
        #expect(twice.status != 0)
        #expect(twice.errors.contains("exists already"))
        let dynamo = try await StoreCommandTests.run(["store", "backup", folder.appendingPathComponent("x").path], environment: ["KAIWA_STORE": "dynamodb"])
        #expect(dynamo.status != 0)
        #expect(dynamo.errors.contains("point-in-time recovery"))
    }
}
