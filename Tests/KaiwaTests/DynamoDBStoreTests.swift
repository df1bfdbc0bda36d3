import Foundation
import Hummingbird
import KaiwaAWS
import KaiwaCore
import KaiwaDynamoDBStore
import KaiwaServer
import KaiwaStore
import Logging
import ServiceLifecycle
import Testing

/// What only the DynamoDB store has to get right: its keys, time to live, pages, table set-up,
/// and many writers on one table (moto_server on loopback).
struct DynamoDBStoreTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func session(_ id: String) -> SessionRecord {
        SessionRecord(id: SessionID(trusted: id), agent: "assistant", title: "T", createdAt: t0, updatedAt: t0)
    }

    func rawMessages(_ store: DynamoDBChatStore, _ id: String) async throws -> [DynamoDBItem] {
        try await store.client.queryAll(
            .init(table: store.tables.history, keyCondition: "sessionId = :s", .init(values: [":s": .string(id)]), consistent: true)
        )
    }

    @Test func messagesOfTheSameMillisecondAreAllKeptInOrder() async throws {
        let store = try await MotoServer.makeStore()
        let id = SessionID(trusted: "same-ms")
        let messages = (1...3).map { NewMessage(role: .user, content: [.text("m\($0)")], createdAt: t0) }
        _ = try await store.openSession(session("same-ms"), appending: messages)
        _ = try await store.appendMessage(NewMessage(role: .assistant, content: [.text("m4")], createdAt: t0), to: id)

        #expect(try await store.messages(in: id).map(\.content.plainText) == ["m1", "m2", "m3", "m4"])
        let timestamps = try await rawMessages(store, "same-ms").compactMap { $0["timestamp"]?.intValue }
        #expect(timestamps == [t0.millis, t0.millis + 1, t0.millis + 2, t0.millis + 3])
    }

    @Test func everyItemCarriesItsTimeToLiveInEpochSeconds() async throws {
        let store = try await MotoServer.makeStore(retention: 3600)
        let id = SessionID(trusted: "ttl")
        _ = try await store.openSession(session("ttl"), appending: [NewMessage(role: .user, content: [.text("hi")], createdAt: t0)])
        try await store.saveConnection(ConnectionRecord(id: "c1", createdAt: t0, expiresAt: t0.addingTimeInterval(86_400)))
        try await store.appendReplyEvents([
            ReplyEventBatch(
                sessionID: id, replyID: "r1", events: [SequencedChatEvent(sequence: 1, event: .delta(text: "x"))], createdAt: t0,
                expiresAt: t0.addingTimeInterval(600)
            )
        ])
        let seconds = Int64(t0.timeIntervalSince1970)
        let sessionItem = try await store.client.getItem(table: store.tables.sessions, key: ["sessionId": .string("ttl")])
        #expect(sessionItem?["expireAt"] == .int(seconds + 3600))
        #expect(try await rawMessages(store, "ttl").first?["expireAt"] == .int(seconds + 3600))
        let connection = try await store.client.getItem(table: store.tables.connections, key: ["connectionId": .string("c1")])
        #expect(connection?["expireAt"] == .int(seconds + 86_400))
        let events = try await store.client.queryAll(
            .init(table: store.tables.replyEvents, keyCondition: "sessionId = :s", .init(values: [":s": .string("ttl")]))
        )
        #expect(events.first?["expireAt"] == .int(seconds + 600))
        // Seed 002's attributes are there for people reading the table.
        #expect(try await rawMessages(store, "ttl").first?["content"] == .string("hi"))
        #expect(try await rawMessages(store, "ttl").first?["role"] == .string("user"))
    }

    @Test func aHistoryLongerThanOneTransactionIsStoredWholeAndInOrder() async throws {
        let store = try await MotoServer.makeStore()
        let id = SessionID(trusted: "handed-over")
        let history = (1...200).map { NewMessage(role: $0.isMultiple(of: 2) ? .assistant : .user, content: [.text("m\($0)")], createdAt: t0) }
        let (opened, stored) = try await store.openSession(session("handed-over"), appending: history)
        #expect(stored.map(\.sequence) == Array(1...200))
        #expect(opened.updatedAt == t0)
        #expect(try await store.messages(in: id).map(\.content.plainText) == (1...200).map { "m\($0)" })
        let more = try await store.appendMessages(history, to: id, replyEvents: [])
        #expect(more.map(\.sequence) == Array(201...400))
    }

    @Test func aLongMessageIsKeptWholeWithAShortReadableCopy() async throws {
        let store = try await MotoServer.makeStore()
        let text = String(repeating: "長い文章。", count: 20_000)
        _ = try await store.openSession(session("long-text"), appending: [NewMessage(role: .assistant, content: [.text(text)], createdAt: t0)])
        #expect(try await store.messages(in: SessionID(trusted: "long-text")).first?.content.plainText == text)
        let readable = try await rawMessages(store, "long-text").first?["content"]?.stringValue ?? ""
        #expect(readable.count == 4097)
        #expect(readable.hasSuffix("…"))
    }

    @Test func sessionsSpreadOverIndexShardsAreListedAsOneNewestFirstList() async throws {
        let store = try await MotoServer.makeStore()
        for index in 0..<20 {
            var record = session(String(format: "spread-%02d", index))
            record.updatedAt = t0.addingTimeInterval(Double(index))
            _ = try await store.createSessionIfAbsent(record)
        }
        let shards = try await store.client.queryAll(.init(table: store.tables.sessions)).compactMap { $0["listScope"]?.stringValue }
        #expect(Set(shards).count > 3)
        var listed: [String] = []
        var cursor: SessionCursor?
        repeat {
            let page = try await store.listSessions(owner: nil, limit: 7, after: cursor)
            listed += page.map(\.id.rawValue)
            cursor = page.count == 7 ? SessionCursor(after: page.last!) : nil
        } while cursor != nil
        #expect(listed == (0..<20).reversed().map { String(format: "spread-%02d", $0) })
    }

    @Test func historyLongerThanOnePageIsReadWhole() async throws {
        let store = try await MotoServer.makeStore(pageSize: 2)
        let id = SessionID(trusted: "long")
        let messages = (1...7).map { NewMessage(role: .user, content: [.text("m\($0)")], createdAt: t0.addingTimeInterval(Double($0))) }
        _ = try await store.openSession(session("long"), appending: messages)

        let firstPage = try await store.client.queryPage(
            .init(table: store.tables.history, keyCondition: "sessionId = :s", .init(values: [":s": .string("long")]), limit: 2)
        )
        #expect(firstPage.Items?.count == 2)
        #expect(firstPage.LastEvaluatedKey != nil)
        #expect(try await store.messages(in: id).map(\.sequence) == Array(1...7))
        #expect(try await store.deleteSession(id, owner: nil))
        #expect(try await rawMessages(store, "long").isEmpty)
    }

    /// Concurrent writers on different instances are ordered by DynamoDB's transactions,
    /// which moto does not isolate; racing is covered against a scripted endpoint in
    /// `DynamoDBRetryTests`. Here two instances take turns, each seeing the other's writes.
    @Test func twoInstancesTakingTurnsContinueOneConversation() async throws {
        let first = try await MotoServer.makeStore()
        let second = DynamoDBChatStore(client: first.client, tables: first.tables, retention: first.retention)
        let id = SessionID(trusted: "shared")
        _ = try await first.createSessionIfAbsent(session("shared"))
        for index in 0..<6 {
            let store = index.isMultiple(of: 2) ? first : second
            let stored = try await store.appendMessage(
                NewMessage(role: .user, content: [.text("m\(index)")], createdAt: t0.addingTimeInterval(Double(index))), to: id
            )
            #expect(stored.sequence == index + 1)
        }
        #expect(try await first.messages(in: id).map(\.content.plainText) == (0..<6).map { "m\($0)" })
        #expect(try await second.session(id)?.updatedAt == t0.addingTimeInterval(5))
    }

    /// Two instances naming one new session for different owners at once: the session item's
    /// conditional put lets one have it, and the other then reads someone else's session.
    @Test func twoInstancesOpeningOneNewSessionForDifferentOwnersGiveItToOne() async throws {
        let first = try await MotoServer.makeStore()
        let second = DynamoDBChatStore(client: first.client, tables: first.tables, retention: first.retention)
        for round in 0..<3 {
            let id = SessionID(trusted: "contested-\(round)")
            let outcomes = await withTaskGroup(of: (owner: String, opened: Bool, notFound: Bool).self) { group in
                for (store, owner) in [(first, "alice"), (second, "bob")] {
                    group.addTask {
                        var record = session(id.rawValue)
                        record.owner = owner
                        do {
                            let message = NewMessage(role: .user, content: [.text("from \(owner)")], createdAt: t0)
                            _ = try await store.openSession(record, appending: [message])
                            return (owner, true, false)
                        } catch let error as KaiwaError {
                            return (owner, false, error.code == .notFound)
                        } catch {
                            return (owner, false, false)
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let winners = outcomes.filter(\.opened).map(\.owner)
            #expect(winners.count == 1)
            #expect(outcomes.filter(\.notFound).count == 1)
            let stored = try await first.session(id)
            #expect(stored?.owner == winners.first)
            #expect(try await first.messages(in: id).map(\.content.plainText) == winners.map { "from \($0)" })
        }
    }

    @Test func createTablesIsSafeToRunTwiceAndEnablesTimeToLive() async throws {
        let client = try await MotoServer.client()
        let tables = DynamoDBTables(prefix: MotoServer.freshPrefix())
        #expect(try await tables.problems(using: client).count == 5)
        let first = try await tables.create(using: client)
        #expect(first.allSatisfy { $0.contains(": created, time to live enabled on expireAt") })
        let second = try await tables.create(using: client)
        #expect(second.allSatisfy { $0.contains("already exists") })
        #expect(try await tables.problems(using: client).isEmpty)
        for table in [tables.connections, tables.history, tables.sessions, tables.replyEvents, tables.access] {
            #expect(try await client.isTimeToLiveEnabled(table: table, attribute: "expireAt"))
        }
    }

    @Test func startUpWithoutTablesSaysWhatIsMissingAndHowToCreateIt() async throws {
        var configuration = KaiwaConfiguration()
        configuration.store = .dynamodb
        configuration.dynamoDBTablePrefix = MotoServer.freshPrefix()
        let environment = [
            "AWS_ENDPOINT_URL_DYNAMODB": try await MotoServer.shared.url(), "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "ap-northeast-1",
        ]
        do {
            _ = try await AppDependencies.make(from: configuration, environment: environment)
            Issue.record("start-up should have failed")
        } catch {
            let message = "\(error)"
            #expect(message.contains("table \(configuration.dynamoDBTablePrefix)ChatHistory does not exist"))
            #expect(message.contains("kaiwa store create-tables"))
        }
        _ = try await StoreFactory.createDynamoDBTables(configuration, environment: environment)
        let dependencies = try await AppDependencies.make(from: configuration, environment: environment)
        #expect(dependencies.store.kind == "dynamodb")
        // Shut down what the dependencies own (their HTTP client), as a server would.
        let services = ServiceGroup(configuration: .init(services: dependencies.services, logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }

    @Test func healthIsServiceUnavailableWhenDynamoDBCannotBeReached() async throws {
        let unreachable = DynamoDBClient(
            endpoint: "http://127.0.0.1:9", region: "ap-northeast-1", credentials: MotoServer.TestingKeys(), client: testHTTPClient,
            retry: .init(maxAttempts: 2, baseDelay: .milliseconds(1)), requestTimeout: .seconds(1)
        )
        let harness = AppHarness(store: DynamoDBChatStore(client: unreachable, tables: DynamoDBTables(), retention: 3600))
        try await harness.run { client in
            let response = try await client.get("/health")
            #expect(response.status == .serviceUnavailable)
            #expect(response.json["error"] as? String == "service_unavailable")
        }
        let healthy = AppHarness(store: try await MotoServer.makeStore())
        try await healthy.run { client in
            let response = try await client.get("/health")
            #expect(response.status == .ok)
            #expect(response.json["store"] as? String == "dynamodb")
        }
    }

    @Test func failedConditionsAndInvalidRequestsAreReportedWithTheServicesWords() async throws {
        let store = try await MotoServer.makeStore()
        let put = DynamoDBClient.Put(
            table: store.tables.connections, item: ["connectionId": .string("c"), "createdAt": .int(1)],
            condition: "attribute_not_exists(connectionId)"
        )
        try await store.client.putItem(put)
        await #expect(throws: DynamoDBError.self) { try await store.client.putItem(put) }
        do {
            try await store.client.putItem(put)
        } catch let error as DynamoDBError {
            #expect(error.kind == .conditionalCheckFailed)
        }
        do {
            try await store.client.putItem(.init(table: store.tables.history, item: ["sessionId": .string("no sort key")]))
            Issue.record("an item without its sort key should be refused")
        } catch let error as DynamoDBError {
            #expect(error.kind == .validation)
            #expect(error.description.contains("PutItem"))
            #expect(!error.message.isEmpty)
        }
    }
}
